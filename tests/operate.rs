//! Running loudhailer as a service and from a shell: completion scripts that the shells parse
//! and that complete, a manual page that man and groff render, logs without colour codes off a
//! terminal (and as JSON on request, and without timestamps under journald), the systemd unit
//! template as `systemd-analyze verify` sees it, and secrets from systemd's credentials.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::lh::{session, text, Event};
use common::Mastodon;

fn lh(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_loudhailer"));
    c.args(args).stdin(Stdio::null());
    for var in ["RUST_LOG", "LOUDHAILER_CONFIG", "LOUDHAILER_LOG_FORMAT", "NO_COLOR", "JOURNAL_STREAM"] {
        c.env_remove(var);
    }
    c
}

fn output(c: &mut Command) -> Output {
    c.output().unwrap()
}

fn have(tool: &str) -> bool {
    Command::new("sh").args(["-c", &format!("command -v {tool}")]).output().is_ok_and(|o| o.status.success())
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/schedules").join(name)
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn completions_parse_and_complete_in_bash() {
    let dir = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish"] {
        let out = output(&mut lh(&["completions", shell]));
        assert!(out.status.success(), "{shell}: {}", text(&out));
        let script = String::from_utf8(out.stdout).unwrap();
        for sub in ["login", "init", "check", "completions"] {
            assert!(script.contains(sub), "{shell} completion lacks {sub}");
        }
        let file = dir.path().join(format!("loudhailer.{shell}"));
        std::fs::write(&file, &script).unwrap();
        // Each shell's own parser, where the shell is installed.
        let syntax = match shell {
            "bash" => vec!["bash", "-n"],
            "zsh" => vec!["zsh", "-n"],
            _ => vec!["fish", "--no-execute"],
        };
        if !have(syntax[0]) {
            eprintln!("not run: parsing the {shell} completion: {} is not installed", syntax[0]);
            continue;
        }
        let parsed = Command::new(syntax[0]).args(&syntax[1..]).arg(&file).output().unwrap();
        assert!(parsed.status.success(), "{shell} does not parse its completion: {}", text(&parsed));
    }
    // Bash completes a subcommand and a value from the script.
    let bash = dir.path().join("loudhailer.bash");
    let probe = format!(
        r#"source {}
f=$(complete -p loudhailer | sed -E 's/.*-F ([^ ]+).*/\1/')
COMP_WORDS=(loudhailer logi); COMP_CWORD=1; COMP_LINE="loudhailer logi"; COMP_POINT=${{#COMP_LINE}}
$f loudhailer logi loudhailer; echo "sub: ${{COMPREPLY[*]}}"
COMP_WORDS=(loudhailer login ""); COMP_CWORD=2; COMP_LINE="loudhailer login "; COMP_POINT=${{#COMP_LINE}}
$f loudhailer "" login; echo "network: ${{COMPREPLY[*]}}""#,
        bash.display()
    );
    let out = Command::new("bash").args(["--norc", "-c", &probe]).output().unwrap();
    let said = text(&out);
    assert!(said.contains("sub: login"), "{said}");
    assert!(said.contains("network: ") && said.trim_end().ends_with(" mastodon x linkedin facebook threads"), "{said}");
}

#[test]
fn the_manual_renders_with_every_subcommand() {
    let out = output(&mut lh(&["man"]));
    assert!(out.status.success(), "{}", text(&out));
    let roff = String::from_utf8(out.stdout).unwrap();
    for section in [".SH NAME", ".SH SYNOPSIS", ".SH DESCRIPTION", ".SH OPTIONS", ".SH SUBCOMMANDS", ".SH VERSION"] {
        assert!(roff.contains(section), "no {section} in the manual");
    }
    let dir = tempfile::tempdir().unwrap();
    let man1 = dir.path().join("man1");
    let out = output(&mut lh(&["man", "--dir", man1.to_str().unwrap()]));
    assert!(out.status.success(), "{}", text(&out));
    for page in
        ["loudhailer.1", "loudhailer-init.1", "loudhailer-login.1", "loudhailer-run.1", "loudhailer-completions.1"]
    {
        assert!(man1.join(page).is_file(), "no {page}");
    }
    if !have("groff") {
        eprintln!("not run: rendering the manual: groff is not installed (Debian: groff-base)");
        return;
    }
    // groff with every warning on: none may come out.
    let rendered =
        Command::new("groff").args(["-man", "-Tutf8", "-ww"]).arg(man1.join("loudhailer-login.1")).output().unwrap();
    assert!(rendered.status.success() && rendered.stderr.is_empty(), "{}", text(&rendered));
    // Without the terminal's bold and underline (a character, a backspace, the character).
    let page =
        regex::Regex::new(".\x08").unwrap().replace_all(&String::from_utf8_lossy(&rendered.stdout), "").into_owned();
    assert!(page.contains("--paste") && page.contains("mastodon"), "{page}");
    if have("man") {
        let shown =
            Command::new("man").arg("-l").arg(man1.join("loudhailer.1")).env("MANPAGER", "cat").output().unwrap();
        assert!(shown.status.success(), "{}", text(&shown));
        assert!(String::from_utf8_lossy(&shown.stdout).contains("loudhailer-init(1)"), "{}", text(&shown));
    }
}

#[test]
fn logs_have_colour_only_on_a_terminal_and_json_on_request() {
    let ics = fixture("ical-folded.ics");
    let ics = ics.to_str().unwrap();
    // Off a terminal (a pipe, journald, a file): plain text, no escape codes.
    let plain = output(&mut lh(&["import", ics]));
    assert!(plain.status.success(), "{}", text(&plain));
    let log = String::from_utf8(plain.stderr).unwrap();
    assert!(log.contains(" WARN ") && log.contains("the schedule names no time zone"), "{log}");
    assert!(!log.contains('\x1b'), "colour codes in a piped log: {log:?}");
    assert!(log.lines().all(|l| l.starts_with("20")), "each line starts with its time: {log}");

    // JSON: one object per line, with the level, the message and the fields.
    let json = output(&mut lh(&["--log-format", "json", "import", ics]));
    assert!(json.status.success(), "{}", text(&json));
    let lines: Vec<serde_json::Value> = String::from_utf8(json.stderr)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    let zone = lines.iter().find(|l| l["message"].as_str().unwrap_or("").contains("no time zone")).unwrap();
    assert_eq!(zone["level"], "WARN");
    assert!(zone["file"].as_str().unwrap().ends_with("ical-folded.ics"), "{zone}");
    assert!(zone["timestamp"].is_string(), "{zone}");
    // The environment says the same.
    let env = output(lh(&["import", ics]).env("LOUDHAILER_LOG_FORMAT", "json"));
    assert!(String::from_utf8_lossy(&env.stderr).starts_with('{'), "{}", text(&env));

    // Under journald (JOURNAL_STREAM names stderr's device and inode): no timestamps of our own.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("journal");
    let err = std::fs::File::create(&file).unwrap();
    use std::os::unix::fs::MetadataExt;
    let meta = err.metadata().unwrap();
    let status = lh(&["import", ics])
        .env("JOURNAL_STREAM", format!("{}:{}", meta.dev(), meta.ino()))
        .stdout(Stdio::null())
        .stderr(err)
        .status()
        .unwrap();
    assert!(status.success());
    let journal = std::fs::read_to_string(&file).unwrap();
    assert!(journal.lines().all(|l| l.starts_with(" WARN ") || l.starts_with("WARN ")), "{journal:?}");

    // At a terminal: colour, unless NO_COLOR says no.
    if !have("script") {
        eprintln!("not run: colour at a terminal: no `script` command to give loudhailer one");
        return;
    }
    let at_terminal = |no_color: bool| {
        let mut c = Command::new("script");
        c.args(["-qec", &format!("{} import {ics}", env!("CARGO_BIN_EXE_loudhailer")), "/dev/null"]);
        c.env_remove("RUST_LOG").env_remove("LOUDHAILER_LOG_FORMAT").env_remove("NO_COLOR");
        if no_color {
            c.env("NO_COLOR", "1");
        }
        String::from_utf8_lossy(&c.stdin(Stdio::null()).output().unwrap().stdout).into_owned()
    };
    assert!(at_terminal(false).contains("\x1b["), "no colour at a terminal");
    assert!(!at_terminal(true).contains("\x1b["), "colour despite NO_COLOR");
}

/// The unit with `ExecStart` pointing at the binary under test, as the instance `demo`.
fn demo_unit(dir: &Path) -> (PathBuf, String) {
    let template = std::fs::read_to_string(root().join("contrib/systemd/loudhailer@.service")).unwrap();
    let unit = template.replace("/usr/local/bin/loudhailer", env!("CARGO_BIN_EXE_loudhailer"));
    let path = dir.join("loudhailer@demo.service");
    std::fs::write(&path, &unit).unwrap();
    (path, template)
}

#[test]
fn the_systemd_unit_template_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let (unit, template) = demo_unit(dir.path());
    for line in [
        "ProtectSystem=strict",
        "NoNewPrivileges=yes",
        "StateDirectory=loudhailer/%i",
        "Restart=on-failure",
        "RestartPreventExitStatus=2",
        "LoadCredential=secret:/etc/loudhailer/credentials/%i",
        "ExecReload=/bin/kill -HUP $MAINPID",
    ] {
        assert!(template.lines().any(|l| l == line), "the unit lacks {line}");
    }
    // Its command line is loudhailer's: the same words with `check` for `run` are accepted.
    let exec = template.lines().find_map(|l| l.strip_prefix("ExecStart=")).unwrap();
    let words: Vec<String> = exec
        .split_whitespace()
        .skip(1)
        .map(|w| w.replace("/etc/loudhailer/%i.toml", root().join("config/example.toml").to_str().unwrap()))
        .map(|w| w.replace("%S/loudhailer/%i", dir.path().join("state").to_str().unwrap()))
        .map(|w| if w == "run" { "check".into() } else { w })
        .collect();
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    let check = output(lh(&words).env("LOUDHAILER_DELEGATE_TOKEN", "t").env("LOUDHAILER_COUNCIL_TOKEN", "t"));
    assert!(check.status.success(), "{exec}: {}", text(&check));
    assert!(text(&check).contains(&format!("state: {}", dir.path().join("state").display())), "{}", text(&check));

    if !have("systemd-analyze") {
        eprintln!("not run: systemd-analyze verify: Debian's systemd package is not installed");
        return;
    }
    // `Documentation=man:loudhailer(1)` is looked up: the pages this binary writes.
    let man = dir.path().join("man");
    assert!(output(&mut lh(&["man", "--dir", man.join("man1").to_str().unwrap()])).status.success());
    let verify = Command::new("systemd-analyze").arg("verify").arg(&unit).env("MANPATH", &man).output().unwrap();
    assert!(verify.status.success(), "systemd-analyze verify: {}", text(&verify));
    assert_eq!(text(&verify).trim(), "", "systemd-analyze had remarks");
    // A broken copy is refused, so the check above means something.
    std::fs::write(&unit, std::fs::read_to_string(&unit).unwrap().replace("Type=exec", "Type=sometimes")).unwrap();
    let broken = Command::new("systemd-analyze").arg("verify").arg(&unit).env("MANPATH", &man).output().unwrap();
    assert!(text(&broken).contains("Failed to parse service type"), "a bad Type= went unnoticed: {}", text(&broken));
}

#[test]
fn secrets_come_from_systemds_credentials_directory() {
    let server = Mastodon::start();
    let config = format!(
        "[event]\nname = \"Service day\"\ntimezone = \"UTC\"\n\n[[account]]\nid = \"delegate\"\nplatform = \"mastodon\"\n\
         server = \"{}\"\ntoken_file = \"${{CREDENTIALS_DIRECTORY}}/secret_delegate-token\"\n\n[state]\ndir = \"{{STATE}}\"\n\n{}",
        server.base,
        session("s1", 3600, 3700, &[])
    );
    let event = Event::new(&config);
    // What systemd makes of /etc/loudhailer/credentials/NAME/delegate-token with the unit's
    // `LoadCredential=secret:…`: a read-only copy named secret_delegate-token.
    let creds = tempfile::tempdir().unwrap();
    let token = creds.path().join("secret_delegate-token");
    std::fs::write(&token, format!("{}\n", Mastodon::ADA)).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o400)).unwrap();
    let dir = creds.path().to_str().unwrap();
    let online = event.run(&["check", "--online"], &[("CREDENTIALS_DIRECTORY", dir)]);
    assert!(online.status.success(), "{}", text(&online));
    assert!(text(&online).contains("account delegate: signed in on"), "{}", text(&online));
    assert!(!text(&online).contains(Mastodon::ADA), "the token reached the output");
    // Outside the unit the variable is not there: the message says where it comes from.
    let outside = event.run(&["check"], &[]);
    assert_eq!(outside.status.code(), Some(2), "{}", text(&outside));
    assert!(
        text(&outside).contains("CREDENTIALS_DIRECTORY is not set: run loudhailer from its unit"),
        "{}",
        text(&outside)
    );
}
