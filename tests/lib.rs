//! Clavis workspace integration tests; the tests live in `it/`, the suites for third-party clients in `compat/`.
