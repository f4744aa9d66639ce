//! c3voc schedule JSON: v1 (`conference.days[].rooms{name: [event]}`, as frab and pretalx
//! export it) and v2, the hub shape (`schedule.events[]` with ISO `start`/`end`, participants,
//! and a `persons[]` list whose typed links give speakers' social profiles).
//!
//! v2 events name no day; each is filed under the conference day whose `start`..`end` range
//! holds its start instant, so a 00:15 talk lands in the day before (offsets may be mixed).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::Deserialize;

use super::draft::{speaker, Draft, LineIndex, ParseError, Parsed, When};
use super::json::{self, DurationField, Id, Named, StampField};
use super::text;
use super::time::{self, Stamp};
use super::{social, Speaker};

#[derive(Deserialize)]
struct Root {
    schedule: Schedule,
}

#[derive(Deserialize)]
struct Schedule {
    conference: Conference,
    #[serde(default)]
    events: Vec<Event>,
    #[serde(default)]
    persons: Vec<Person>,
}

#[derive(Deserialize)]
struct Conference {
    title: Option<String>,
    acronym: Option<String>,
    time_zone_name: Option<String>,
    #[serde(default)]
    days: Vec<Day>,
    #[serde(default)]
    tracks: Vec<Track>,
}

#[derive(Deserialize)]
struct Track {
    name: Option<String>,
    slug: Option<String>,
}

#[derive(Deserialize)]
struct Day {
    date: String,
    day_start: Option<StampField>,
    day_end: Option<StampField>,
    start: Option<StampField>,
    end: Option<StampField>,
    #[serde(default)]
    rooms: BTreeMap<String, Vec<Event>>,
}

#[derive(Deserialize)]
struct Event {
    id: Option<Id>,
    guid: Option<String>,
    code: Option<String>,
    title: String,
    /// v1: the start with its offset; `start` is then "HH:MM".
    date: Option<StampField>,
    /// v2: the start with its offset (v1: "HH:MM", ignored when `date` is present).
    start: Option<String>,
    end: Option<StampField>,
    #[serde(default)]
    duration: DurationField,
    room: Option<Named>,
    track: Option<Named>,
    language: Option<String>,
    #[serde(rename = "abstract")]
    abstract_text: Option<String>,
    description: Option<String>,
    url: Option<String>,
    #[serde(default)]
    persons: Vec<Person>,
    #[serde(default)]
    participants: Vec<Person>,
}

#[derive(Deserialize)]
struct Person {
    guid: Option<String>,
    name: Option<String>,
    public_name: Option<String>,
    full_public_name: Option<String>,
    role: Option<String>,
    #[serde(default)]
    links: Vec<Link>,
}

#[derive(Deserialize)]
struct Link {
    url: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    service: Option<String>,
    title: Option<String>,
}

impl Person {
    fn display_name(&self) -> Option<String> {
        [&self.public_name, &self.full_public_name, &self.name]
            .into_iter()
            .find_map(|n| text::non_empty_line(n.as_deref()))
    }
}

/// Reads a c3voc schedule JSON (v1 or v2).
pub fn parse(source: &str) -> Result<Parsed, ParseError> {
    let root: Root = json::from_str(source)?;
    let mut index = LineIndex::new(source);
    let schedule = root.schedule;
    let conference = schedule.conference;
    let mut parsed = Parsed {
        name: text::non_empty_line(conference.title.as_deref().or(conference.acronym.as_deref())),
        ..Parsed::default()
    };
    if let Some(name) = conference.time_zone_name.as_deref().filter(|n| !n.trim().is_empty()) {
        parsed.zone = Some(time::parse_zone(name).ok_or_else(|| {
            ParseError::new(
                json::locate(&mut index, name),
                format!("unknown time zone {name:?} in conference.time_zone_name"),
            )
        })?);
    }
    let tracks: HashMap<String, String> =
        conference.tracks.iter().filter_map(|t| Some((t.slug.clone()?, t.name.clone()?))).collect();
    let people: HashMap<String, &Person> = schedule.persons.iter().filter_map(|p| Some((p.guid.clone()?, p))).collect();
    let mut ranges = Vec::new();
    for day in &conference.days {
        let date = time::parse_date(&day.date).ok_or_else(|| {
            ParseError::new(json::locate(&mut index, &day.date), format!("day date {:?} is not YYYY-MM-DD", day.date))
        })?;
        let bound = |s: &Option<StampField>| match s {
            Some(StampField(When::Offset(t))) => Some(*t),
            _ => None,
        };
        if let (Some(from), Some(to)) =
            (bound(&day.start).or(bound(&day.day_start)), bound(&day.end).or(bound(&day.day_end)))
        {
            ranges.push((from, to, date));
        }
        for (room, events) in &day.rooms {
            for event in events {
                let mut draft = draft(&mut index, event, &tracks, &people)?;
                draft.day = Some(date);
                draft.room = draft.room.or_else(|| text::non_empty_line(Some(room)));
                parsed.drafts.push(draft);
            }
        }
    }
    for event in &schedule.events {
        let mut draft = draft(&mut index, event, &tracks, &people)?;
        if let When::Offset(start) = draft.start {
            draft.day = day_of(start, &ranges);
        }
        parsed.drafts.push(draft);
    }
    Ok(parsed)
}

type DayRange = (DateTime<FixedOffset>, DateTime<FixedOffset>, NaiveDate);

fn day_of(start: DateTime<FixedOffset>, ranges: &[DayRange]) -> Option<NaiveDate> {
    ranges.iter().find(|(from, to, _)| *from <= start && start < *to).map(|(_, _, date)| *date)
}

fn draft(
    index: &mut LineIndex<'_>,
    event: &Event,
    tracks: &HashMap<String, String>,
    people: &HashMap<String, &Person>,
) -> Result<Draft, ParseError> {
    let title = text::line(&event.title);
    let location = json::locate(index, &event.title);
    let id = event.code.clone().or_else(|| event.guid.clone()).or_else(|| event.id.as_ref().map(Id::to_string));
    let start = match (&event.date, event.start.as_deref()) {
        (Some(StampField(date)), _) => *date,
        (None, Some(start)) => match time::parse_stamp(start) {
            Some(Stamp::Offset(t)) => When::Offset(t),
            Some(Stamp::Local(t)) => When::Local(t),
            None => {
                return Err(ParseError::new(
                    json::locate(index, start),
                    format!("event {title:?}: start {start:?} is not an ISO 8601 date-time (and there is no `date`)"),
                ))
            }
        },
        (None, None) => {
            return Err(ParseError::new(location, format!("event {title:?} has neither `date` nor `start`")))
        }
    };
    let mut draft = Draft::new(location, title, start);
    draft.source_id = id;
    draft.end = event.end.map(|StampField(w)| w);
    draft.duration = event.duration.0;
    draft.room = event.room.as_ref().and_then(|r| r.name(&HashMap::new()));
    draft.track = event.track.as_ref().and_then(|t| t.name(tracks));
    draft.language = text::non_empty_line(event.language.as_deref());
    draft.url = event.url.clone().filter(|u| !u.trim().is_empty());
    draft.abstract_text =
        text::non_empty(event.abstract_text.as_deref()).or_else(|| text::non_empty(event.description.as_deref()));
    for person in event.persons.iter().chain(&event.participants) {
        let role = person.role.as_deref().unwrap_or("SPEAKER");
        if !role.eq_ignore_ascii_case("speaker") {
            continue;
        }
        let full = person.guid.as_ref().and_then(|g| people.get(g)).copied();
        let Some(name) = person.display_name().or_else(|| full.and_then(Person::display_name)) else {
            continue;
        };
        let mut s: Speaker = speaker(&name);
        for link in person.links.iter().chain(full.map_or(&[][..], |f| &f.links[..])) {
            let label = [&link.service, &link.kind, &link.title]
                .into_iter()
                .flatten()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join(" ");
            if let Some(url) = &link.url {
                social::apply(&mut s, url, Some(&label));
            }
        }
        draft.speakers.push(s);
    }
    Ok(draft)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_and_v2() {
        let v1 = r#"{"schedule": {"conference": {"title": "T", "time_zone_name": "Europe/Berlin",
          "days": [{"date": "2019-08-21", "rooms": {"Curie": [{"id": 1, "guid": "g1", "title": "Open",
            "date": "2019-08-21T11:00:00+02:00", "start": "11:00", "duration": "00:30",
            "room": "Curie", "track": "CCC", "persons": [{"id": 7, "public_name": "jinxx"}]}]}}]}}}"#;
        let p = parse(v1).unwrap();
        assert_eq!(p.zone, Some(chrono_tz::Europe::Berlin));
        let d = &p.drafts[0];
        assert_eq!(
            (d.source_id.as_deref(), d.room.as_deref(), d.track.as_deref()),
            (Some("g1"), Some("Curie"), Some("CCC"))
        );
        assert_eq!(d.duration, Some(chrono::Duration::minutes(30)));
        assert_eq!(d.speakers[0].name, "jinxx");

        let v2 = r#"{"schedule": {"conference": {"title": "38C3", "time_zone_name": "Europe/Berlin",
          "tracks": [{"name": "Hardware & Making", "slug": "hardware-making"}],
          "days": [{"date": "2024-12-27", "start": "2024-12-27T09:30:00+00:00", "end": "2024-12-28T06:00:00+01:00"}]},
          "events": [{"guid": "g", "code": "ABC", "title": "Night", "start": "2024-12-28T00:15:00+01:00",
            "end": "2024-12-28T00:55:00+01:00", "room": {"name": "Saal Z"}, "track": {"slug": "hardware-making"},
            "participants": [{"guid": "p1", "name": "Ada", "role": "SPEAKER"}, {"guid": "p2", "name": "Bo", "role": "CONTRIBUTOR"}]}],
          "persons": [{"guid": "p1", "name": "Ada", "links": [{"type": "ACTIVITYPUB", "service": "MASTODON", "url": "https://chaos.social/@ada"}]}]}}"#;
        let p = parse(v2).unwrap();
        let d = &p.drafts[0];
        assert_eq!(d.day, chrono::NaiveDate::from_ymd_opt(2024, 12, 27));
        assert_eq!(d.track.as_deref(), Some("Hardware & Making"));
        assert_eq!(d.room.as_deref(), Some("Saal Z"));
        assert_eq!(d.source_id.as_deref(), Some("ABC"));
        assert_eq!(d.speakers.len(), 1);
        assert_eq!(d.speakers[0].mastodon.as_deref(), Some("@ada@chaos.social"));
    }

    #[test]
    fn refusals_name_the_place() {
        for (input, want) in [
            ("{\"schedule\": {}}", "line 1, column 15: missing field `conference`"),
            ("{\"schedule\": {\"conference\": {\"days\": [{\"date\": 5}]}}}", "line 1"),
            ("{\"schedule\": {\"conference\": {\"time_zone_name\": \"Nowhere\"}}}", "unknown time zone"),
            (
                "{\"schedule\": {\"conference\": {}, \"events\": [{\"title\": \"x\", \"start\": \"soon\"}]}}",
                "line 1, column 68",
            ),
            ("{\"schedule\": {\"conference\": {}, \"events\": [{\"title\": \"x\", \"end\": \"soon\"}]}}", "ISO 8601"),
            ("{\"schedule\": {\"conference\": {}, \"events\": [{\"title\": \"x\"}]}}", "neither"),
            ("{\"schedule\": ", "EOF"),
        ] {
            let e = parse(input).unwrap_err();
            let shown = format!("{}: {}", e.location, e.message);
            assert!(shown.contains(want), "{input}: {shown}");
        }
    }
}
