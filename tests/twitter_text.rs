//! X's weighted length against twitter-text's own conformance cases.
//!
//! `validate.yml` (twitter/twitter-text, Apache-2.0) has three weighted sections, 44 cases, each
//! run with the config twitter-text's Ruby suite names: `WeightedTweetsCounterTest` with v2,
//! `WeightedTweetsWithDiscountedEmojiCounterTest` with v3 and `UnicodeDirectionalMarkerCounterTest`
//! with the default (v3). Every expected field is checked: weighted length, validity, permillage
//! and the display and valid ranges.
//!
//! The full file is read from `../shared/specs/twitter-text/conformance/validate.yml` (or
//! `$LOUDHAILER_SHARED/specs/...`). A dozen of its cases are committed in
//! `tests/fixtures/twitter-text/validate-subset.yml`, so a fresh clone still checks the counter.

mod common;

use std::path::{Path, PathBuf};

use loudhailer::count::twitter::{self, Config, Parsed};
use yaml_rust2::YamlLoader;

const SECTIONS: [(&str, Config); 3] = [
    ("WeightedTweetsCounterTest", twitter::V2),
    ("WeightedTweetsWithDiscountedEmojiCounterTest", twitter::V3),
    ("UnicodeDirectionalMarkerCounterTest", twitter::V3),
];

const SUBSET: &str = "tests/fixtures/twitter-text/validate-subset.yml";

fn shared_validate() -> Option<PathBuf> {
    common::shared::file("specs/twitter-text/conformance/validate.yml", "twitter-text's full validate.yml")
}

struct Case {
    section: String,
    description: String,
    text: String,
    expected: Parsed,
}

fn load(path: &Path) -> Vec<Case> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let docs = YamlLoader::load_from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let tests = &docs[0]["tests"];
    let mut out = Vec::new();
    for (section, _) in SECTIONS {
        let Some(cases) = tests[section].as_vec() else { continue };
        for case in cases {
            let e = &case["expected"];
            let n = |k: &str| e[k].as_i64().unwrap_or_else(|| panic!("{section}: {k} missing")) as usize;
            out.push(Case {
                section: section.to_string(),
                description: case["description"].as_str().unwrap().to_string(),
                text: case["text"].as_str().unwrap().to_string(),
                expected: Parsed {
                    weighted_length: n("weightedLength"),
                    valid: e["valid"].as_bool().unwrap(),
                    permillage: n("permillage"),
                    display_range: (n("displayRangeStart"), n("displayRangeEnd")),
                    valid_range: (n("validRangeStart"), n("validRangeEnd")),
                },
            });
        }
    }
    out
}

fn config_for(section: &str) -> Config {
    SECTIONS.iter().find(|(s, _)| *s == section).map(|(_, c)| *c).unwrap()
}

/// Runs every case; returns the failures, described.
fn run(cases: &[Case]) -> Vec<String> {
    let mut failures = Vec::new();
    for c in cases {
        let got = twitter::parse(&c.text, &config_for(&c.section));
        if got != c.expected {
            failures.push(format!("{} / {}:\n   got {got:?}\n  want {:?}", c.section, c.description, c.expected));
        }
    }
    failures
}

#[test]
#[cfg_attr(not(shared), ignore = "needs twitter-text's validate.yml in ../shared/specs (the committed subset runs)")]
fn all_44_weighted_cases_of_validate_yml() {
    let Some(path) = shared_validate() else { return };
    let cases = load(&path);
    let per_section: Vec<usize> =
        SECTIONS.iter().map(|(s, _)| cases.iter().filter(|c| c.section == *s).count()).collect();
    assert_eq!(per_section, [20, 22, 2], "cases per section");
    assert_eq!(cases.len(), 44);
    let failures = run(&cases);
    assert!(failures.is_empty(), "{} of 44 cases fail:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn the_committed_subset_passes() {
    let cases = load(&Path::new(env!("CARGO_MANIFEST_DIR")).join(SUBSET));
    assert!(cases.len() >= 12, "the subset has {} cases", cases.len());
    for (section, _) in SECTIONS {
        assert!(cases.iter().any(|c| c.section == section), "the subset has no {section} case");
    }
    let failures = run(&cases);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
#[cfg_attr(not(shared), ignore = "needs twitter-text's validate.yml in ../shared/specs to compare the subset with")]
fn the_committed_subset_is_a_faithful_copy() {
    let Some(path) = shared_validate() else { return };
    let full = load(&path);
    for c in load(&Path::new(env!("CARGO_MANIFEST_DIR")).join(SUBSET)) {
        let found = full.iter().find(|f| f.section == c.section && f.description == c.description);
        let f = found.unwrap_or_else(|| panic!("{} / {} is not in validate.yml", c.section, c.description));
        assert_eq!((&f.text, f.expected), (&c.text, c.expected), "{} / {}", c.section, c.description);
    }
}
