//! The desk's HTML, rendered on the server from minijinja templates built into the binary
//! (the same engine the posts' templates use), escaped as HTML. One folder per page; the
//! desk's page is also rendered in parts ([`REGIONS`]) that the event stream sends as they change.

pub mod desk;
pub mod model;
pub mod signin;

use minijinja::{context, Environment};

use super::assets;
use model::Page;

/// The parts of the desk page the event stream replaces: `(element id, template)`.
pub const REGIONS: [(&str, &str); 7] = [
    ("as-of", "asof.html"),
    ("thread", "threads.html"),
    ("attention", "attention.html"),
    ("sessions", "sessions.html"),
    ("upcoming", "upcoming.html"),
    ("failed", "failed.html"),
    ("accounts", "accounts.html"),
];

/// The templates, parsed once.
pub struct Pages {
    env: Environment<'static>,
    /// The largest photo the post box takes, in bytes (said beside it).
    photo_cap: u64,
}

impl Default for Pages {
    fn default() -> Self {
        Self::new()
    }
}

impl Pages {
    pub fn new() -> Self {
        let mut env = Environment::new();
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        for (name, source) in [
            ("layout.html", include_str!("layout.html")),
            ("desk.html", include_str!("desk/desk.html")),
            ("attention.html", include_str!("desk/attention.html")),
            ("sessions.html", include_str!("desk/sessions.html")),
            ("upcoming.html", include_str!("desk/upcoming.html")),
            ("failed.html", include_str!("desk/failed.html")),
            ("accounts.html", include_str!("desk/accounts.html")),
            ("counts.html", include_str!("desk/counts.html")),
            ("threads.html", include_str!("desk/threads.html")),
            ("asof.html", include_str!("desk/asof.html")),
            ("signin.html", include_str!("signin/signin.html")),
        ] {
            // The templates are part of the binary and tested; one that does not parse is a bug
            // a test finds, and rendering it then says so in the page instead of panicking.
            if let Err(e) = env.add_template(name, source) {
                tracing::error!(template = name, error = %e, "a desk template does not parse");
            }
        }
        Pages { env, photo_cap: super::PHOTO_LIMIT }
    }

    /// The same pages, saying `cap` as the largest photo the post box takes.
    pub fn with_photo_cap(mut self, cap: u64) -> Self {
        self.photo_cap = cap;
        self
    }

    fn render(&self, name: &str, ctx: minijinja::Value) -> String {
        match self.env.get_template(name).and_then(|t| t.render(ctx)) {
            Ok(html) => html,
            Err(e) => {
                tracing::error!(template = name, error = %e, "a desk template failed");
                format!(
                    "<p>This part of the desk could not be shown ({}).</p>",
                    html_escape::encode_text(&e.to_string())
                )
            }
        }
    }

    /// The whole desk page.
    pub fn desk(&self, page: &Page) -> String {
        let photo_cap = super::actions::photo::size_text(self.photo_cap);
        self.render("desk.html", context! { page => page, assets => assets::inline(), photo_cap => photo_cap, photo_cap_bytes => self.photo_cap })
    }

    /// One part of the desk page, by its template's name.
    pub fn part(&self, template: &str, page: &Page) -> String {
        self.render(template, context! { page => page })
    }

    /// A template rendered with any context (the post box's counts).
    pub fn region(&self, template: &str, ctx: &minijinja::Value) -> String {
        self.render(template, ctx.clone())
    }

    /// The sign-in page.
    pub fn signin(&self) -> String {
        self.render("signin.html", context! { assets => assets::inline() })
    }
}

#[cfg(test)]
mod tests;
