//! A small element tree over `quick-xml` events, with the byte position of every element so
//! that errors can name a line and column.
//!
//! Schedules are data-shaped XML (no mixed content worth keeping), so an element holds its
//! attributes, its children and the concatenation of its own text. Nesting is limited so that
//! hostile input cannot exhaust the stack when the tree is dropped.

use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

use super::draft::{Location, ParseError};

const MAX_DEPTH: usize = 64;

/// One element.
#[derive(Debug, Clone, Default)]
pub struct Element {
    pub name: String,
    pub attributes: Vec<(String, String)>,
    pub children: Vec<Element>,
    pub text: String,
    /// Byte offset of the `<` that opens the element.
    pub position: usize,
}

impl Element {
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    pub fn children<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The trimmed text of a child, `None` when absent or blank.
    pub fn child_text(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.trim()).filter(|t| !t.is_empty())
    }
}

/// Parses a whole document into its root element.
pub fn parse(text: &str) -> Result<Element, ParseError> {
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let here = |offset: u64| Location::at_offset(text, usize::try_from(offset).unwrap_or(usize::MAX));
    loop {
        let before = reader.buffer_position();
        let event = reader
            .read_event()
            .map_err(|e| ParseError::new(here(reader.error_position()), format!("malformed XML: {e}")))?;
        let position = usize::try_from(before).unwrap_or(usize::MAX);
        match event {
            Event::Start(start) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(ParseError::new(here(before), "elements nested too deeply"));
                }
                stack.push(element(&start, position, text)?);
            }
            Event::Empty(start) => {
                let element = element(&start, position, text)?;
                attach(&mut stack, &mut root, element, text)?;
            }
            Event::End(_) => {
                if let Some(done) = stack.pop() {
                    attach(&mut stack, &mut root, done, text)?;
                }
            }
            Event::Text(t) => {
                let content =
                    t.xml10_content().map_err(|e| ParseError::new(here(before), format!("undecodable text: {e}")))?;
                push_text(&mut stack, &content, before, text)?;
            }
            Event::CData(t) => {
                let content =
                    t.xml10_content().map_err(|e| ParseError::new(here(before), format!("undecodable CDATA: {e}")))?;
                push_text(&mut stack, &content, before, text)?;
            }
            Event::GeneralRef(r) => {
                let name = r.decode().map_err(|e| ParseError::new(here(before), format!("bad reference: {e}")))?;
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    Ok(None) => resolve_predefined_entity(&name)
                        .map(str::to_owned)
                        // HTML entities (&nbsp;) are common in schedules though not XML.
                        .unwrap_or_else(|| html_escape::decode_html_entities(&format!("&{name};")).into_owned()),
                    Err(e) => return Err(ParseError::new(here(before), format!("bad character reference: {e}"))),
                };
                push_text(&mut stack, &resolved, before, text)?;
            }
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    if let Some(open) = stack.last() {
        return Err(ParseError::new(
            Location::at_offset(text, text.len()),
            format!("the file ends inside <{}> (opened at {})", open.name, Location::at_offset(text, open.position)),
        ));
    }
    root.ok_or_else(|| ParseError::new(Location::File, "no XML element found"))
}

fn element(start: &BytesStart<'_>, position: usize, text: &str) -> Result<Element, ParseError> {
    let name = String::from_utf8_lossy(start.name().as_ref()).into_owned();
    let mut attributes = Vec::new();
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|e| {
            ParseError::new(Location::at_offset(text, position), format!("malformed attribute in <{name}>: {e}"))
        })?;
        let key = String::from_utf8_lossy(attribute.key.as_ref()).into_owned();
        let value = attribute
            .normalized_value(XmlVersion::Implicit1_0)
            .map(|v| v.into_owned())
            .unwrap_or_else(|_| String::from_utf8_lossy(&attribute.value).into_owned());
        attributes.push((key, value));
    }
    Ok(Element { name, attributes, position, ..Element::default() })
}

fn attach(stack: &mut [Element], root: &mut Option<Element>, element: Element, text: &str) -> Result<(), ParseError> {
    match stack.last_mut() {
        Some(parent) => parent.children.push(element),
        None if root.is_none() => *root = Some(element),
        None => {
            return Err(ParseError::new(
                Location::at_offset(text, element.position),
                format!("a second root element <{}> after the document ended", element.name),
            ))
        }
    }
    Ok(())
}

fn push_text(stack: &mut [Element], content: &str, at: u64, text: &str) -> Result<(), ParseError> {
    match stack.last_mut() {
        Some(parent) => parent.text.push_str(content),
        None if content.trim().is_empty() => {}
        None => {
            return Err(ParseError::new(
                Location::at_offset(text, usize::try_from(at).unwrap_or(usize::MAX)),
                "text outside the root element",
            ))
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trees() {
        let root = parse("<a x='1 &amp; 2'>\n <b>t&amp;u&#233;&nbsp;</b><b/><![CDATA[<c>]]></a>").unwrap();
        assert_eq!(root.attribute("x"), Some("1 & 2"));
        assert_eq!(root.children("b").count(), 2);
        assert_eq!(root.child_text("b"), Some("t&ué\u{a0}".trim()));
        assert!(root.text.contains("<c>"));
        assert_eq!(
            root.child("b").map(|b| Location::at_offset("<a x='1 &amp; 2'>\n <b>", b.position)),
            Some(Location::LineColumn { line: 2, column: 2 })
        );
    }

    #[test]
    fn errors_have_places() {
        for (input, line) in [
            ("<a>\n<b></a>", 2),
            ("<a>\n<b>\n", 3),
            ("<a></a>\n<a/>", 2),
            ("", 0),
            ("<a>&#xZZ;</a>", 1),
            ("<a b=c>", 1),
        ] {
            let e = parse(input).unwrap_err();
            let got = match e.location {
                Location::LineColumn { line, .. } => line,
                _ => 0,
            };
            assert_eq!(got, line, "{input:?}: {}", e.message);
        }
        let deep = "<a>".repeat(100);
        assert!(parse(&deep).unwrap_err().message.contains("deeply"));
    }
}
