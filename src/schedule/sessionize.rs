//! Sessionize API output: the GridSmart view (days → rooms → sessions, with every session
//! repeated under `timeSlots`), the Sessions view (groups of sessions) and the All view
//! (`{sessions, speakers, rooms}`), plus the Speakers view as a companion file for profiles.
//!
//! Sessionize writes naive local times, so the zone must come from the user. Sessions are
//! de-duplicated by id (the grid lists each twice; plenum sessions once, under one room).
//! Speakers are matched by speaker id and also through the speakers file's own session lists,
//! whose ids are numbers where the grid's are strings. Service sessions (breaks, registration)
//! are skipped unless asked for, with a warning saying how many.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde::Deserialize;

use super::draft::{speaker, Draft, LineIndex, ParseError, Parsed, When};
use super::json::{self, Id, StampField};
use super::{social, text, time, Speaker};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Group {
    date: Option<String>,
    #[serde(default)]
    rooms: Vec<GridRoom>,
    #[serde(default)]
    time_slots: Vec<Slot>,
    #[serde(default)]
    sessions: Vec<Session>,
}

#[derive(Deserialize)]
struct GridRoom {
    name: Option<String>,
    #[serde(default)]
    sessions: Vec<Session>,
}

#[derive(Deserialize)]
struct Slot {
    #[serde(default)]
    rooms: Vec<SlotRoom>,
}

#[derive(Deserialize)]
struct SlotRoom {
    name: Option<String>,
    session: Option<Session>,
}

#[derive(Deserialize)]
struct All {
    #[serde(default)]
    sessions: Vec<Session>,
    #[serde(default)]
    speakers: Vec<Person>,
    #[serde(default)]
    rooms: Vec<Room>,
}

#[derive(Deserialize)]
struct Room {
    id: Id,
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Session {
    id: Id,
    title: String,
    description: Option<String>,
    starts_at: Option<StampField>,
    ends_at: Option<StampField>,
    is_service_session: Option<bool>,
    #[serde(default)]
    speakers: Vec<Ref>,
    #[serde(default)]
    categories: Vec<Category>,
    room: Option<String>,
    room_id: Option<Id>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Ref {
    Object { id: Id, name: Option<String> },
    Bare(Id),
}

impl Ref {
    fn id(&self) -> String {
        match self {
            Ref::Object { id, .. } | Ref::Bare(id) => id.to_string(),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Category {
    name: Option<String>,
    #[serde(default)]
    category_items: Vec<Item>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Item {
    Named {
        name: Option<String>,
    },
    /// The All view lists item ids only.
    Bare(serde::de::IgnoredAny),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Person {
    id: Id,
    full_name: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    #[serde(default)]
    links: Vec<Link>,
    #[serde(default)]
    sessions: Vec<Ref>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Link {
    title: Option<String>,
    url: Option<String>,
    link_type: Option<String>,
}

/// Reads a Sessionize export, with the Speakers view when given.
pub fn parse(source: &str, speakers_file: Option<(&Path, &str)>, keep_service: bool) -> Result<Parsed, ParseError> {
    let mut sessions: Vec<(Session, Option<String>, Option<chrono::NaiveDate>)> = Vec::new();
    let mut people: Vec<Person> = Vec::new();
    let mut rooms: HashMap<String, String> = HashMap::new();
    if source.trim_start().starts_with('[') {
        if source.contains("\"fullName\"") && !source.contains("\"startsAt\"") {
            return Err(ParseError::new(
                super::draft::Location::File,
                "this is a Sessionize speakers view; pass it as the speakers file (--speakers) \
                 next to the grid, sessions or all view",
            ));
        }
        let groups: Vec<Group> = json::from_str(source)?;
        for group in groups {
            let day = group.date.as_deref().and_then(time::parse_date);
            for room in group.rooms {
                for s in room.sessions {
                    sessions.push((s, room.name.clone(), day));
                }
            }
            for slot in group.time_slots {
                for room in slot.rooms {
                    if let Some(s) = room.session {
                        sessions.push((s, room.name, day));
                    }
                }
            }
            sessions.extend(group.sessions.into_iter().map(|s| (s, None, day)));
        }
    } else {
        let all: All = json::from_str(source)?;
        rooms.extend(all.rooms.into_iter().filter_map(|r| Some((r.id.to_string(), r.name?))));
        sessions.extend(all.sessions.into_iter().map(|s| (s, None, None)));
        people.extend(all.speakers);
    }
    if let Some((path, text)) = speakers_file {
        let in_file = |mut e: ParseError| {
            e.file = Some(path.to_owned());
            e
        };
        if text.trim_start().starts_with('[') {
            people.extend(json::from_str::<Vec<Person>>(text).map_err(in_file)?);
        } else {
            people.extend(json::from_str::<All>(text).map_err(in_file)?.speakers);
        }
    }
    let profiles: HashMap<String, Speaker> = people.iter().map(|p| (p.id.to_string(), profile(p))).collect();
    let mut by_session: HashMap<String, Vec<String>> = HashMap::new();
    for person in &people {
        for s in &person.sessions {
            by_session.entry(s.id()).or_default().push(person.id.to_string());
        }
    }

    let mut parsed = Parsed::default();
    let mut index = LineIndex::new(source);
    let mut seen = HashSet::new();
    let (mut service, mut unscheduled) = (0, 0);
    for (session, grid_room, day) in sessions {
        let id = session.id.to_string();
        if !seen.insert(id.clone()) {
            continue;
        }
        if session.is_service_session == Some(true) && !keep_service {
            service += 1;
            continue;
        }
        let Some(StampField(start)) = session.starts_at else {
            unscheduled += 1;
            continue;
        };
        let location = json::locate(&mut index, &session.title);
        let mut draft = Draft::new(location, text::line(&session.title), start);
        draft.source_id = Some(id.clone());
        draft.end = session.ends_at.map(|StampField(w)| w);
        draft.day = day.or(match start {
            When::Local(t) | When::Zoned(t, _) => Some(t.date()),
            When::Offset(t) => Some(t.date_naive()),
        });
        draft.room = text::non_empty_line(session.room.as_deref())
            .or_else(|| session.room_id.as_ref().and_then(|r| rooms.get(&r.to_string()).cloned()))
            .or(grid_room);
        draft.abstract_text = text::non_empty(session.description.as_deref());
        draft.track = category(&session.categories, &["track", "tracks"]);
        draft.language = category(&session.categories, &["language", "languages"]);
        let mut ids: Vec<String> = session.speakers.iter().map(Ref::id).collect();
        for extra in by_session.get(&id).into_iter().flatten() {
            if !ids.contains(extra) {
                ids.push(extra.clone());
            }
        }
        for speaker_id in ids {
            let named = session.speakers.iter().find_map(|r| match r {
                Ref::Object { id, name } if id.to_string() == speaker_id => name.clone(),
                _ => None,
            });
            match (profiles.get(&speaker_id), named) {
                (Some(p), _) => draft.speakers.push(p.clone()),
                (None, Some(name)) => draft.speakers.push(speaker(&text::line(&name))),
                (None, None) => {}
            }
        }
        parsed.drafts.push(draft);
    }
    if service > 0 {
        parsed.warnings.push(format!(
            "{service} service sessions (breaks, registration) were skipped; set \
             service_sessions = true to keep them"
        ));
    }
    if unscheduled > 0 {
        parsed.warnings.push(format!("{unscheduled} sessions have no start time yet and were skipped"));
    }
    Ok(parsed)
}

fn profile(person: &Person) -> Speaker {
    let name = text::non_empty_line(person.full_name.as_deref()).unwrap_or_else(|| {
        let parts = [&person.first_name, &person.last_name].map(|p| p.as_deref().unwrap_or(""));
        text::line(&parts.join(" "))
    });
    let mut s = speaker(&name);
    for link in &person.links {
        if let Some(url) = &link.url {
            let label =
                [&link.link_type, &link.title].into_iter().flatten().map(String::as_str).collect::<Vec<_>>().join(" ");
            social::apply(&mut s, url, Some(&label));
        }
    }
    s
}

fn category(categories: &[Category], names: &[&str]) -> Option<String> {
    categories
        .iter()
        .filter(|c| c.name.as_deref().is_some_and(|n| names.contains(&n.trim().to_lowercase().as_str())))
        .flat_map(|c| &c.category_items)
        .find_map(|item| match item {
            Item::Named { name } => text::non_empty_line(name.as_deref()),
            Item::Bare(_) => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GRID: &str = r#"[{"date": "2023-06-08T00:00:00", "rooms": [{"id": 1, "name": "Hall", "sessions": [
        {"id": "10", "title": "Keynote", "startsAt": "2023-06-08T09:00:00", "endsAt": "2023-06-08T10:00:00",
         "isServiceSession": false, "speakers": [{"id": "s1", "name": "Tor"}],
         "categories": [{"name": "Track", "categoryItems": [{"id": 5, "name": "Android"}]}]},
        {"id": "11", "title": "Lunch", "startsAt": "2023-06-08T12:00:00", "endsAt": "2023-06-08T13:00:00",
         "isServiceSession": true, "speakers": []}]}],
      "timeSlots": [{"slotStart": "09:00:00", "rooms": [{"id": 1, "name": "Hall", "session":
        {"id": "10", "title": "Keynote", "startsAt": "2023-06-08T09:00:00", "endsAt": "2023-06-08T10:00:00"}}]}]}]"#;
    const SPEAKERS: &str = r#"[{"id": "s1", "fullName": "Tor Norbye", "links": [
        {"title": "Twitter", "url": "https://twitter.com/tornorbye", "linkType": "Twitter"}],
        "sessions": [{"id": 10, "name": "Keynote"}]},
      {"id": "s2", "fullName": "Guest", "links": [], "sessions": [{"id": 10, "name": "Keynote"}]}]"#;

    #[test]
    fn grid_with_speakers() {
        let p = parse(GRID, Some((Path::new("speakers.json"), SPEAKERS)), false).unwrap();
        assert_eq!(p.drafts.len(), 1, "duplicates and the service session are dropped");
        let d = &p.drafts[0];
        assert_eq!(d.track.as_deref(), Some("Android"));
        assert_eq!(d.room.as_deref(), Some("Hall"));
        let names: Vec<(&str, Option<&str>)> = d.speakers.iter().map(|s| (s.name.as_str(), s.x.as_deref())).collect();
        assert_eq!(names, [("Tor Norbye", Some("tornorbye")), ("Guest", None)]);
        assert!(p.warnings[0].contains("1 service sessions"));
        assert_eq!(parse(GRID, None, true).unwrap().drafts.len(), 2);
    }

    #[test]
    fn all_view_and_errors() {
        let all = r#"{"sessions": [{"id": 1, "title": "T", "startsAt": "2023-06-08T09:00:00", "roomId": 7, "speakers": ["a"]},
            {"id": 2, "title": "Later", "startsAt": null}],
          "speakers": [{"id": "a", "firstName": "Ada", "lastName": "L", "sessions": [1]}], "rooms": [{"id": 7, "name": "R7"}]}"#;
        let p = parse(all, None, false).unwrap();
        assert_eq!(p.drafts[0].room.as_deref(), Some("R7"));
        assert_eq!(p.drafts[0].speakers[0].name, "Ada L");
        assert!(p.warnings[0].contains("no start time"));
        let e = parse(GRID, Some((Path::new("sp.json"), "[{\"id\": \"x\", \"links\": 3}]")), false).unwrap_err();
        assert_eq!(e.file.as_deref(), Some(Path::new("sp.json")));
        let e = parse(SPEAKERS, None, false).unwrap_err();
        assert!(e.message.contains("speakers view"), "{}", e.message);
        let e = parse(
            "[{\"rooms\": [{\"sessions\": [{\"id\": \"1\", \"title\": \"x\",\n\"startsAt\": \"noon\"}]}]}]",
            None,
            false,
        )
        .unwrap_err();
        assert!(matches!(e.location, super::super::draft::Location::LineColumn { line: 2, .. }), "{e:?}");
    }
}
