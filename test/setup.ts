import { installChildDeadlines, takeDeadlineKills } from "./support/child-deadline";

// No child process outlives its test: see test/support/child-deadline.ts.
installChildDeadlines();
afterEach(() => {
  const killed = takeDeadlineKills();
  if (killed.length > 0) throw new Error(killed.join("\n\n"));
});
