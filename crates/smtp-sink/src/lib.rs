//! An SMTP server on loopback for tests.
