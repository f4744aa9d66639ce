//! A claimed post's images, made ready before the post goes. Each file is read again and
//! compared with what the job's intent holds: an earlier upload of the same file and alt text
//! that the server still has is used again; any other image is prepared for the account's
//! network (decoded, upright, stripped of all metadata, re-encoded to fit) and uploaded, and the
//! engine stores each new upload with the intent, durably, before the post that uses it is sent.
//!
//! So upload-then-post is exactly once: an upload is not a post, and a retried upload is
//! harmless (the server drops an upload no post uses); the post itself goes out under the
//! intent's key, as a post without images does.

use std::sync::LazyLock;

use tokio::sync::{mpsc, oneshot, Semaphore};

use super::messages::{Claimed, ToEngine};
use super::rules::uploads;
use crate::job::{Image, Uploaded};
use crate::media::{self, Limits, MediaError, Prepared};
use crate::platform::{Client, Platform, PlatformError, Upload};

/// One photo prepared at a time, whichever account's worker asks: a 12-megapixel photo takes
/// about 90 MB while it is decoded and re-encoded, and two at once would take twice that.
static PREPARING: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(1));

/// The uploads a claimed post attaches, one per image in order. `fresh`: upload every image
/// again (the server lost one of them).
pub(super) async fn uploads(
    client: &Client,
    claimed: &Claimed,
    engine: &mpsc::UnboundedSender<ToEngine>,
    fresh: bool,
) -> Result<Vec<Uploaded>, PlatformError> {
    let record = &claimed.record;
    let mut stored = record.intent.as_ref().map(|i| i.media.clone()).unwrap_or_default();
    let mut limits: Option<Limits> = None;
    let mut out = Vec::with_capacity(record.spec.images.len());
    for (i, image) in record.spec.images.iter().enumerate() {
        let bytes = read(image, claimed.max_file_bytes).await?;
        let of = media::digest(&bytes, &image.alt);
        if !fresh {
            if let Some(earlier) = uploads::reusable(&stored, i, &of, claimed.at) {
                if client.media_alive(&earlier.media).await? {
                    tracing::debug!(job = %record.spec.id, image = i + 1, media = %earlier.media.id, "the earlier upload is still on the server: used again");
                    out.push(earlier.clone());
                    continue;
                }
                tracing::info!(job = %record.spec.id, image = i + 1, "the server no longer has the earlier upload: uploading again");
            }
        }
        let limits = match &limits {
            Some(l) => l,
            None => limits.insert(client.image_limits().await?),
        };
        // A server may take less alt text than the network's usual (Mastodon's own limit).
        if let Err(e @ media::AltError::TooLong { .. }) = media::check_alt(Some(&image.alt), limits.alt) {
            return Err(PlatformError::Internal { message: format!("image {}: {e}", image.file) });
        }
        let (prepared, thumbnail) = match prepare(bytes, limits.clone()).await {
            Ok(Ok(prepared)) => prepared,
            Ok(Err(e)) => return Err(failed(image, e)),
            Err(panic) => return Err(crashed(image, &panic)),
        };
        let media = client.upload(&Upload { image: &prepared, alt: &image.alt }).await?;
        tracing::info!(job = %record.spec.id, image = i + 1, media = %media.id, bytes = prepared.bytes.len(), width = prepared.width, height = prepared.height, "image uploaded");
        drop(prepared);
        let uploaded = Uploaded { image: i, of, media, thumbnail };
        stored = uploads::with_upload(&stored, uploaded.clone());
        keep(engine, claimed, stored.clone()).await?;
        out.push(uploaded);
    }
    Ok(out)
}

/// Has the engine store `media` with the claimed job's intent, and waits until it is on disk.
async fn keep(
    engine: &mpsc::UnboundedSender<ToEngine>,
    claimed: &Claimed,
    media: Vec<Uploaded>,
) -> Result<(), PlatformError> {
    let (reply, stored) = oneshot::channel();
    let id = claimed.record.spec.id.clone();
    let not_kept = || PlatformError::Retry("the uploaded images could not be stored with the job; trying again".into());
    engine.send(ToEngine::Uploaded { id, media, reply }).map_err(|_| not_kept())?;
    match stored.await {
        Ok(true) => Ok(()),
        _ => Err(not_kept()),
    }
}

/// Why an image cannot go: the job fails with it (a file to fix, then `loudhailer retry`).
fn failed(image: &Image, reason: MediaError) -> PlatformError {
    PlatformError::Internal { message: format!("image {}: {reason}", image.file) }
}

/// The file's bytes (at most `cap`), read off the engine's threads.
async fn read(image: &Image, cap: u64) -> Result<Vec<u8>, PlatformError> {
    let path = image.path().to_owned();
    match off_thread(move || media::read(&path, cap)).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(e)) => Err(failed(image, e.reason)),
        Err(panic) => Err(crashed(image, &panic)),
    }
}

/// A decoder that panicked on a file: the job fails, the account's worker goes on.
fn crashed(image: &Image, panic: &str) -> PlatformError {
    PlatformError::Internal { message: format!("image {}: it could not be decoded ({panic})", image.file) }
}

/// The image prepared for `limits`, and its thumbnail for the report (decoded once), one at a
/// time (see [`PREPARING`]); the memory it took is given back to the system at once, so a daemon
/// that waits for hours afterwards does not keep it.
#[allow(clippy::type_complexity)]
async fn prepare(bytes: Vec<u8>, limits: Limits) -> Result<Result<(Prepared, Option<String>), MediaError>, String> {
    let _turn = PREPARING.acquire().await;
    let prepared = off_thread(move || {
        let decoded = media::decode(&bytes)?;
        drop(bytes);
        Ok((decoded.fit(&limits)?, media::thumbnail(&decoded)))
    })
    .await;
    crate::heap::give_back();
    prepared
}

/// Runs blocking work beside the runtime; a panic in it comes back as its message. On a
/// single-threaded runtime (a dry run on tokio's paused clock, the engine's tests) it runs in
/// place: that runtime's clock must not move on while the work is done, or the post would seem
/// to go out late.
async fn off_thread<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, String> {
    use tokio::runtime::{Handle, RuntimeFlavor};
    if Handle::current().runtime_flavor() == RuntimeFlavor::CurrentThread {
        return std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)).map_err(|p| panic_text(p.as_ref()));
    }
    match tokio::task::spawn_blocking(work).await {
        Ok(done) => Ok(done),
        Err(e) if e.is_panic() => Err(panic_text(e.into_panic().as_ref())),
        Err(e) => Err(e.to_string()),
    }
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".into())
}
