//! The envelope around every stored value: magic, format version, CRC32, JSON.

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::StoreError;

/// The current format of stored values.
pub const FORMAT_VERSION: u32 = 4;

const MAGIC: u8 = b'L';
const HEADER: usize = 1 + 1 + 4;

pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    // Serializing plain data structs to JSON cannot fail.
    let payload = serde_json::to_vec(value).unwrap_or_default();
    let mut out = Vec::with_capacity(HEADER + payload.len());
    out.push(MAGIC);
    out.push(FORMAT_VERSION as u8);
    out.extend_from_slice(&crc32fast::hash(&payload).to_be_bytes());
    out.extend_from_slice(&payload);
    out
}

/// The format version a value was written in, if it is a loudhailer record at all.
pub fn version(bytes: &[u8]) -> Option<u32> {
    (bytes.len() >= HEADER && bytes[0] == MAGIC).then(|| u32::from(bytes[1]))
}

/// The payload of a value, after checking its envelope.
pub fn check<'a>(tree: &str, key: &[u8], bytes: &'a [u8]) -> Result<&'a [u8], StoreError> {
    let corrupt = |why: &str| StoreError::Corrupt {
        tree: tree.to_string(),
        key: String::from_utf8_lossy(key).into_owned(),
        why: why.to_string(),
    };
    if bytes.len() < HEADER || bytes[0] != MAGIC {
        return Err(corrupt("not a loudhailer record"));
    }
    if u32::from(bytes[1]) > FORMAT_VERSION {
        return Err(corrupt("written by a newer loudhailer"));
    }
    let crc = u32::from_be_bytes([bytes[2], bytes[3], bytes[4], bytes[5]]);
    let payload = &bytes[HEADER..];
    if crc32fast::hash(payload) != crc {
        return Err(corrupt("checksum mismatch: a torn or partial write"));
    }
    Ok(payload)
}

pub fn decode<T: DeserializeOwned>(tree: &str, key: &[u8], bytes: &[u8]) -> Result<T, StoreError> {
    let payload = check(tree, key, bytes)?;
    serde_json::from_slice(payload).map_err(|e| StoreError::Corrupt {
        tree: tree.to_string(),
        key: String::from_utf8_lossy(key).into_owned(),
        why: format!("unreadable: {e}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes_catch_damage() {
        let bytes = encode(&vec![1, 2, 3]);
        assert_eq!(decode::<Vec<i32>>("t", b"k", &bytes).unwrap(), vec![1, 2, 3]);
        // A torn write: the tail is missing.
        let torn = &bytes[..bytes.len() - 2];
        let err = decode::<Vec<i32>>("t", b"k", torn).unwrap_err().to_string();
        assert!(err.contains("torn or partial write"), "{err}");
        // A flipped bit.
        let mut flipped = bytes.clone();
        flipped[HEADER] ^= 0x40;
        assert!(decode::<Vec<i32>>("t", b"k", &flipped).is_err());
        assert!(decode::<Vec<i32>>("t", b"k", b"{}").unwrap_err().to_string().contains("not a loudhailer record"));
        let mut newer = bytes;
        newer[1] = 99;
        assert!(decode::<Vec<i32>>("t", b"k", &newer).unwrap_err().to_string().contains("newer"));
    }
}
