//! X's image uploads: `POST /2/media/upload` (the image base64-encoded in JSON, `media_category`
//! `tweet_image`), polled with `GET /2/media/upload?command=STATUS` while X processes it, and the
//! alt text through `POST /2/media/metadata`.

use reqwest::Method;

use super::wire::{self, Envelope};
use super::X;
use crate::job::MediaRef;
use crate::platform::{PlatformError, Upload};

impl X {
    /// `POST /2/media/upload`, polled while X processes it, then the alt text through
    /// `POST /2/media/metadata`.
    pub(super) async fn upload_image(&self, upload: &Upload<'_>) -> Result<MediaRef, PlatformError> {
        use base64::Engine as _;
        let body = serde_json::json!({
            "media": base64::engine::general_purpose::STANDARD.encode(&upload.image.bytes),
            "media_category": "tweet_image",
        });
        let reply = self.call(Method::POST, self.url("/2/media/upload", &[]), Some(&body)).await?;
        if !reply.status.is_success() {
            return Err(self.fail(&reply));
        }
        let mut media = reply
            .json::<Envelope<wire::Media>>()?
            .data
            .ok_or_else(|| PlatformError::Retry("X answered the upload without the media's id".into()))?;
        let mut polls = 0;
        while media.processing() {
            if polls == wire::PROCESSING_POLLS {
                return Err(PlatformError::Retry(format!(
                    "X was still processing image {} after {polls} looks",
                    media.id
                )));
            }
            polls += 1;
            let wait = media.processing_info.as_ref().and_then(|p| p.check_after_secs).unwrap_or(1).clamp(1, 10);
            self.clock
                .sleep_until(crate::checked::saturating_after(self.clock.now(), std::time::Duration::from_secs(wait)))
                .await;
            media = self.media_status(&media.id).await?.ok_or_else(|| {
                PlatformError::Retry(format!("X no longer knows image {} while processing it", media.id))
            })?;
        }
        if let Some(failed) = media.failure() {
            return Err(PlatformError::Permanent {
                status: 200,
                message: format!("X could not process the image: {failed}"),
            });
        }
        if !upload.alt.is_empty() {
            let body = serde_json::json!({ "id": media.id, "metadata": { "alt_text": { "text": upload.alt } } });
            let reply = self.call(Method::POST, self.url("/2/media/metadata", &[]), Some(&body)).await?;
            if !reply.status.is_success() {
                return Err(self.fail(&reply));
            }
        }
        let now = self.clock.now();
        let expires = media
            .expires_after_secs
            .and_then(|s| u64::try_from(s).ok())
            .map(|s| crate::checked::saturating_after(now, std::time::Duration::from_secs(s)));
        Ok(MediaRef {
            id: media.id,
            blob: None,
            width: upload.image.width,
            height: upload.image.height,
            at: now,
            expires,
        })
    }

    /// An upload's state, or `None` when X no longer has it.
    pub(super) async fn media_status(&self, id: &str) -> Result<Option<wire::Media>, PlatformError> {
        let url = self.url("/2/media/upload", &[("media_id", id), ("command", "STATUS")]);
        let reply = self.call(Method::GET, url, None).await?;
        match reply.status.as_u16() {
            200..=299 => Ok(reply.json::<Envelope<wire::Media>>()?.data),
            400 | 404 => Ok(None),
            _ => Err(self.fail(&reply)),
        }
    }
}
