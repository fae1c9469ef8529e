// Stand-in for the Yarn 4.5.3 release that `yarn set version` commits
// here; the test image's yarn checks that it is present. A real check
// runs the real release (tests/real_pm.rs).
