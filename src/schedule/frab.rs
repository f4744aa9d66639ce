//! frab, Pentabarf and pretalx schedule XML (`<schedule><day><room><event>`).
//!
//! Times: an event's `<date>` (`2019-12-27T11:00:00+01:00`) is an exact instant. Without it the
//! event's `<start>` (`HH:MM`) is a local time on its `<day date>`, moved to the next calendar
//! date when it is earlier than the day's start (`<day start="…T11:00">`) or than the
//! conference's `<day_change>`: a 01:00 talk filed under day 1 happens in the night after it.

use chrono::{Duration, NaiveDate, NaiveTime};

use super::draft::{speaker, Draft, LineIndex, ParseError, Parsed, When};
use super::text;
use super::time::{self, Stamp};
use super::xml::{self, Element};

/// Reads a frab/Pentabarf/pretalx XML schedule.
pub fn parse(source: &str) -> Result<Parsed, ParseError> {
    let root = xml::parse(source)?;
    let index = LineIndex::new(source);
    let at = |e: &Element| index.at(e.position);
    if root.name != "schedule" {
        return Err(ParseError::new(at(&root), format!("expected a <schedule> root element, found <{}>", root.name)));
    }
    let mut parsed = Parsed::default();
    let conference = root.child("conference");
    if let Some(conference) = conference {
        parsed.name = conference.child_text("title").or_else(|| conference.child_text("acronym")).map(text::line);
        if let Some(name) = conference.child_text("time_zone_name") {
            parsed.zone = Some(time::parse_zone(name).ok_or_else(|| {
                ParseError::new(at(conference), format!("unknown time zone {name:?} in <time_zone_name>"))
            })?);
        }
    }
    let day_change = conference.and_then(|c| c.child_text("day_change")).and_then(time::parse_clock);
    for day in root.children("day") {
        let date = day
            .attribute("date")
            .ok_or_else(|| ParseError::new(at(day), "<day> needs a date attribute (YYYY-MM-DD)"))?;
        let date = time::parse_date(date)
            .ok_or_else(|| ParseError::new(at(day), format!("<day date={date:?}> is not a YYYY-MM-DD date")))?;
        // The clock time before which an event belongs to the night after this day.
        let rollover = day
            .attribute("start")
            .and_then(time::parse_stamp)
            .map(|s| match s {
                Stamp::Offset(t) => t.time(),
                Stamp::Local(t) => t.time(),
            })
            .or(day_change);
        for room in day.children("room") {
            let room_name = room.attribute("name").map(text::line);
            for event in room.children("event") {
                let draft = event_draft(event, date, rollover, room_name.as_deref(), &index)?;
                parsed.drafts.push(draft);
            }
        }
        for event in day.children("event") {
            parsed.drafts.push(event_draft(event, date, rollover, None, &index)?);
        }
    }
    Ok(parsed)
}

fn event_draft(
    event: &Element,
    date: NaiveDate,
    rollover: Option<NaiveTime>,
    room: Option<&str>,
    index: &LineIndex<'_>,
) -> Result<Draft, ParseError> {
    let location = index.at(event.position);
    let field_location = |name: &str| event.child(name).map_or(location, |c| index.at(c.position));
    let title = event
        .child_text("title")
        .map(text::line)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ParseError::new(location, "<event> has no <title>"))?;
    let start = match event.child_text("date") {
        Some(stamp) => match time::parse_stamp(stamp) {
            Some(Stamp::Offset(t)) => When::Offset(t),
            Some(Stamp::Local(t)) => When::Local(t),
            None => {
                return Err(ParseError::new(
                    field_location("date"),
                    format!("<date>{stamp}</date> is not an ISO 8601 date-time"),
                ))
            }
        },
        None => {
            let clock = event
                .child_text("start")
                .ok_or_else(|| ParseError::new(location, "<event> has neither <date> nor <start>"))?;
            let clock = time::parse_clock(clock).ok_or_else(|| {
                ParseError::new(field_location("start"), format!("<start>{clock}</start> is not a HH:MM time"))
            })?;
            let next_day = rollover.is_some_and(|r| clock < r);
            let on = if next_day { date.checked_add_signed(Duration::days(1)).unwrap_or(date) } else { date };
            When::Local(on.and_time(clock))
        }
    };
    let mut draft = Draft::new(location, title, start);
    draft.day = Some(date);
    if let Some(duration) = event.child_text("duration") {
        draft.duration = Some(time::parse_duration(duration).ok_or_else(|| {
            ParseError::new(field_location("duration"), format!("<duration>{duration}</duration> is not HH:MM"))
        })?);
    }
    draft.source_id = ["code", "guid", "id"]
        .iter()
        .find_map(|k| event.attribute(k).filter(|v| !v.trim().is_empty()))
        .map(str::to_owned);
    draft.room = text::non_empty_line(event.child_text("room")).or(room.map(str::to_owned));
    draft.track = text::non_empty_line(event.child_text("track"));
    draft.language = text::non_empty_line(event.child_text("language"));
    draft.url = event.child_text("url").map(str::to_owned);
    draft.abstract_text =
        text::non_empty(event.child_text("abstract")).or_else(|| text::non_empty(event.child_text("description")));
    if let Some(persons) = event.child("persons") {
        draft.speakers = persons
            .children("person")
            .map(|p| text::line(&p.text))
            .filter(|n| !n.is_empty())
            .map(|n| speaker(&n))
            .collect();
    }
    Ok(draft)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: &str = r#"<schedule>
<conference><title>Tiny &amp; Co</title><day_change>05:00</day_change></conference>
<day date="2024-02-03" index="1">
  <room name="Hall A">
    <event id="7" guid="AbC-1"><start>23:30</start><duration>01:00</duration>
      <title>Late</title><abstract>&lt;p&gt;First. Second.&lt;/p&gt;</abstract>
      <persons><person id="1">Ada</person><person id="2"> </person></persons></event>
    <event id="8"><start>01:30</start><duration>00:30</duration><title>After midnight</title></event>
  </room>
</day>
</schedule>"#;

    #[test]
    fn reads_days_rooms_and_rollover() {
        let p = parse(SMALL).unwrap();
        assert_eq!(p.name.as_deref(), Some("Tiny & Co"));
        let summary: Vec<(Option<String>, String, When, Option<String>)> =
            p.drafts.iter().map(|d| (d.source_id.clone(), d.title.clone(), d.start, d.room.clone())).collect();
        let local = |s| When::Local(chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M").unwrap());
        assert_eq!(
            summary,
            [
                (Some("AbC-1".into()), "Late".into(), local("2024-02-03T23:30"), Some("Hall A".into())),
                (Some("8".into()), "After midnight".into(), local("2024-02-04T01:30"), Some("Hall A".into())),
            ]
        );
        assert_eq!(p.drafts[1].day, NaiveDate::from_ymd_opt(2024, 2, 3));
        assert_eq!(p.drafts[0].abstract_text.as_deref(), Some("First. Second."));
        assert_eq!(p.drafts[0].speakers.len(), 1);
    }

    #[test]
    fn refuses_with_a_place() {
        for (input, want) in [
            ("<schedul/>", "root"),
            ("<schedule><day index='1'/></schedule>", "date attribute"),
            ("<schedule><day date='2024-02-30'/></schedule>", "YYYY-MM-DD"),
            ("<schedule><day date='2024-02-03'><room><event><start>9</start><title>x</title></event></room></day></schedule>", "HH:MM"),
            ("<schedule><day date='2024-02-03'><room><event><start>09:00</start></event></room></day></schedule>", "no <title>"),
            ("<schedule><conference><time_zone_name>Nowhere</time_zone_name></conference></schedule>", "unknown time zone"),
        ] {
            let e = parse(input).unwrap_err();
            assert!(e.message.contains(want), "{input}: {}", e.message);
        }
    }
}
