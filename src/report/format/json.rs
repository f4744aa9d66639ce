//! JSON: the whole [`Report`], pretty-printed; its schema is `docs/report.schema.json`.

use std::io::Write;

use crate::report::model::Report;

pub fn write(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    writeln!(out)
}
