/**
 * Where a jest run's temporary files go: one directory per run, set as TMPDIR for every test file and
 * the tools they start (jest's workers inherit it from the global set-up), removed by the global
 * teardown. Two reasons:
 *
 * - Speed: the unit tier writes and deletes thousands of files (synth outputs, repositories). On a
 *   RAM-backed file system (tmpfs, /dev/shm) that took 15.6–16.8 s against 17.6–18.0 s in /tmp on
 *   this project's disk (system CPU 2.3–2.8 s against 3.8 s). A tmpfs is used only when it has room
 *   (MIN_FREE_BYTES): Docker's default /dev/shm is 64 MB.
 * - Tidiness: cdktf's test helpers make a `cdktf.outdir.*` directory for every App without an outdir
 *   and never remove it (800 were left in /tmp after a few runs). They now go with the run's directory.
 *
 * GITLAB_OIDC_TEST_TMPDIR chooses the parent directory. A run that was killed leaves its directory;
 * the next run removes every one whose jest process is gone.
 */
"use strict";
const { mkdirSync, mkdtempSync, readdirSync, rmSync, statfsSync, statSync } = require("node:fs");
const { tmpdir } = require("node:os");
const { dirname, join } = require("node:path");

/** The prefix of a run's directory; the jest process's PID follows it. */
const PREFIX = "gitlab-oidc-aws-jest-";
/** A tmpfs with less free space than this is not used (the slow tier writes ~100 MB at a time). */
const MIN_FREE_BYTES = 2 * 1024 ** 3;
/** The RAM-backed directories tried before the system's temporary directory. */
const RAM_DIRS = ["/dev/shm"];

/** Free bytes on the file system of `dir`, or -1 when it cannot be read (no such directory). */
function freeBytes(dir) {
  try {
    const stats = statfsSync(dir);
    return stats.bavail * stats.bsize;
  } catch {
    return -1;
  }
}

/**
 * Whether `dir` is a file system's root (its device differs from its parent's): /dev/shm in a chroot
 * that bound /dev alone is a plain directory of the host's devtmpfs, with a coarse clock, not a tmpfs.
 */
function isMountPoint(dir) {
  try {
    return statSync(dir).dev !== statSync(dirname(dir)).dev;
  } catch {
    return false;
  }
}

/**
 * The parent of this run's directory: GITLAB_OIDC_TEST_TMPDIR, else a RAM file system mounted at one
 * of `ramDirs` with `minFree` bytes free, else the system's temporary directory.
 */
function scratchParent(
  env = process.env,
  ramDirs = RAM_DIRS,
  minFree = MIN_FREE_BYTES,
  mounted = isMountPoint,
) {
  if (env.GITLAB_OIDC_TEST_TMPDIR) return env.GITLAB_OIDC_TEST_TMPDIR;
  return ramDirs.find((dir) => mounted(dir) && freeBytes(dir) >= minFree) ?? tmpdir();
}

/** Whether process `pid` is alive (a process of another user counts as alive). */
function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === "EPERM";
  }
}

/** Removes the directories of earlier runs under `parent` whose jest process is gone. */
function pruneStaleScratch(parent) {
  let entries;
  try {
    entries = readdirSync(parent);
  } catch {
    return;
  }
  for (const entry of entries) {
    if (!entry.startsWith(PREFIX)) continue;
    const pid = Number(entry.slice(PREFIX.length).split("-")[0]);
    if (Number.isSafeInteger(pid) && pid > 0 && !alive(pid)) {
      rmSync(join(parent, entry), { recursive: true, force: true });
    }
  }
}

/** Makes this run's directory under `parent` (named after this process's PID). */
function makeScratch(parent) {
  mkdirSync(parent, { recursive: true });
  return mkdtempSync(join(parent, `${PREFIX}${process.pid}-`));
}

module.exports = { MIN_FREE_BYTES, isMountPoint, makeScratch, pruneStaleScratch, scratchParent };
