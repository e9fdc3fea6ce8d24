test("probe", () => {
  const t0 = performance.now();
  require("yaml");
  const t1 = performance.now();
  require("zod");
  const t2 = performance.now();
  require("cdktf");
  const t3 = performance.now();
  require("../src/synth");
  const t4 = performance.now();
  require("@cdktf/hcl2json");
  const t5 = performance.now();
  console.log(`yaml ${t1 - t0} zod ${t2 - t1} cdktf ${t3 - t2} synth ${t4 - t3} hcl2json ${t5 - t4}`);
});
