//! Fuzzes the frab schedule reader: any bytes give sessions or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use loudhailer::schedule::Format;

fuzz_target!(|data: &[u8]| loudhailer_fuzz::read(Format::Frab, data));
