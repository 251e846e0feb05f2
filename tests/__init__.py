"""The test suite: a package so that its shared support (``tests.support``) imports by name."""
