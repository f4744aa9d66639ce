//! Where log lines go and how they look: plain text on standard error, coloured only on a
//! terminal (never under journald or in a file), without timestamps when journald is reading
//! (it stamps every line itself), or one JSON object per line for log collectors.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use super::{Cli, Command};

/// How log lines are written (`--log-format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormat {
    /// One readable line per event; colour only on a terminal (`NO_COLOR` turns it off).
    #[default]
    Text,
    /// One JSON object per line: `timestamp`, `level`, `message` and the event's fields.
    Json,
}

/// Starts logging for this command line: the level from `-v`/`RUST_LOG`, the format from
/// `--log-format`.
pub fn init(cli: &Cli) {
    // A dry run's output is the posts themselves: keep the log to warnings unless asked.
    let dry_run = matches!(&cli.command, Command::Run(a) if a.dry_run);
    let default = match cli.verbose {
        0 if dry_run => "warn",
        0 => "loudhailer=info,warn",
        1 => "loudhailer=debug,info",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false);
    match cli.log_format {
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(false).with_span_list(false).init(),
        LogFormat::Text => {
            let builder = builder.with_ansi(colour(
                std::io::stderr().is_terminal(),
                std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
            ));
            if under_journald() {
                builder.without_time().init()
            } else {
                builder.init()
            }
        }
    }
}

/// Colour codes only for a person at a terminal who has not asked for none (no-color.org).
fn colour(terminal: bool, no_color: bool) -> bool {
    terminal && !no_color
}

/// Whether standard error is journald's stream: systemd sets `JOURNAL_STREAM` to its
/// `device:inode`, which a child's redirected stderr would no longer match.
fn under_journald() -> bool {
    let Some(stream) = std::env::var_os("JOURNAL_STREAM") else {
        return false;
    };
    use std::os::fd::AsFd;
    use std::os::unix::fs::MetadataExt;
    let Ok(fd) = std::io::stderr().as_fd().try_clone_to_owned() else {
        return false;
    };
    let Ok(meta) = std::fs::File::from(fd).metadata() else {
        return false;
    };
    journal_stream_matches(&stream.to_string_lossy(), meta.dev(), meta.ino())
}

/// `JOURNAL_STREAM` is `DEVICE:INODE`, both decimal.
fn journal_stream_matches(value: &str, dev: u64, ino: u64) -> bool {
    let Some((d, i)) = value.split_once(':') else {
        return false;
    };
    d.parse() == Ok(dev) && i.parse() == Ok(ino)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_needs_a_terminal_and_no_no_color() {
        assert!(colour(true, false));
        assert!(!colour(false, false), "a pipe or journald gets no colour codes");
        assert!(!colour(true, true), "NO_COLOR turns colour off at a terminal too");
    }

    #[test]
    fn journal_stream_is_matched_by_device_and_inode() {
        assert!(journal_stream_matches("8:12345", 8, 12345));
        assert!(!journal_stream_matches("8:12345", 8, 12346));
        assert!(!journal_stream_matches("8", 8, 12345));
        assert!(!journal_stream_matches("x:y", 8, 12345));
    }
}
