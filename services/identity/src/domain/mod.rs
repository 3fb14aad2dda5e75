//! Identity's rules and pure logic: no I/O here.

pub mod password;
