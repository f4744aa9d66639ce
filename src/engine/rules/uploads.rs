//! Which of a post's earlier uploads a new try may use (pure): only an upload of the same image,
//! made from the same file and alt text, that the network has not said it forgets by now.

use chrono::{DateTime, Utc};

use crate::job::Uploaded;

/// An upload this close to the time the network forgets it is not used: the post may take a
/// while yet.
pub const EXPIRY_MARGIN: chrono::Duration = chrono::Duration::minutes(5);

/// The earlier upload of image `image` (its place in the job) made from `of` (see
/// `media::digest`), if one may be attached at `now`.
pub fn reusable<'a>(stored: &'a [Uploaded], image: usize, of: &str, now: DateTime<Utc>) -> Option<&'a Uploaded> {
    stored
        .iter()
        .filter(|u| u.image == image && u.of == of)
        .find(|u| u.media.expires.is_none_or(|t| crate::checked::saturating_add(now, EXPIRY_MARGIN) < t))
}

/// `stored` with `new` in place of any earlier upload of the same image, in image order.
pub fn with_upload(stored: &[Uploaded], new: Uploaded) -> Vec<Uploaded> {
    let mut out: Vec<Uploaded> = stored.iter().filter(|u| u.image != new.image).cloned().collect();
    out.push(new);
    out.sort_by_key(|u| u.image);
    out
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::job::MediaRef;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2010, 3, 18, h, m, 0).unwrap()
    }

    fn up(image: usize, of: &str, id: &str, expires: Option<DateTime<Utc>>) -> Uploaded {
        let media = MediaRef { id: id.into(), blob: None, width: 4, height: 3, at: at(9, 0), expires };
        Uploaded { image, of: of.into(), media, thumbnail: None }
    }

    #[test]
    fn only_an_upload_of_the_same_image_file_and_alt_text_that_has_not_expired_is_used_again() {
        let stored = [up(0, "d0", "m0", None), up(1, "d1", "m1", Some(at(12, 0)))];
        // (image, digest, now) → the id reused, if any.
        let cases: [(usize, &str, DateTime<Utc>, Option<&str>); 7] = [
            (0, "d0", at(10, 0), Some("m0")),
            (0, "d0", at(23, 59), Some("m0")), // no expiry known: the server is asked
            (0, "changed", at(10, 0), None),   // the file or the alt text changed
            (1, "d0", at(10, 0), None),        // another image's upload
            (1, "d1", at(11, 54), Some("m1")),
            (1, "d1", at(11, 56), None), // within five minutes of X forgetting it
            (2, "d1", at(10, 0), None),
        ];
        for (image, of, now, want) in cases {
            let got = reusable(&stored, image, of, now).map(|u| u.media.id.as_str());
            assert_eq!(got, want, "image {image}, {of}, at {now}");
        }
    }

    #[test]
    fn a_new_upload_replaces_the_earlier_one_of_its_image() {
        let stored = vec![up(2, "d2", "old2", None), up(0, "d0", "m0", None)];
        let next = with_upload(&stored, up(2, "d2b", "new2", None));
        let ids: Vec<&str> = next.iter().map(|u| u.media.id.as_str()).collect();
        assert_eq!(ids, ["m0", "new2"]);
        let more = with_upload(&next, up(1, "d1", "m1", None));
        assert_eq!(more.iter().map(|u| u.image).collect::<Vec<_>>(), [0, 1, 2]);
    }
}
