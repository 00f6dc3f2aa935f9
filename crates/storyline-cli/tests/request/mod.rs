//! The little HTTP the tests' own feed servers read.

use std::io::{BufRead, BufReader};
use std::net::TcpStream;

/// Reads a request up to the blank line after its headers; its first line (`GET /path
/// HTTP/1.1`), empty when the stream cannot be read.
pub fn request_line(stream: &TcpStream) -> String {
    let Ok(read_half) = stream.try_clone() else {
        return String::new();
    };
    let mut reader = BufReader::new(read_half);
    let mut first = String::new();
    let _ = reader.read_line(&mut first);
    let mut line = String::new();
    while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
        line.clear();
    }
    first
}
