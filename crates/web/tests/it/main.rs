//! Integration tests: the real app over HTTP on SQLite, and on PostgreSQL when configured.

mod support;

mod browser;
mod smoke;
