//! A minimal browser for the tests: keeps cookies, follows no redirects, posts forms.

use std::collections::BTreeMap;

use reqwest::StatusCode;
use reqwest::blocking::Client;
use reqwest::header::HeaderMap;
use serde_json::Value;

use crate::support::TestApp;

pub struct Browser<'a> {
    pub app: &'a TestApp,
    client: Client,
    pub cookies: BTreeMap<String, String>,
}

#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
    /// The `Set-Cookie` lines of the answer.
    pub set_cookies: Vec<String>,
}

impl Answer {
    #[track_caller]
    pub fn shows(&self, text: &str) -> &Self {
        assert!(self.body.contains(text), "the page does not show {text:?}:\n{}", self.body);
        self
    }

    #[track_caller]
    pub fn lacks(&self, text: &str) -> &Self {
        assert!(!self.body.contains(text), "the page shows {text:?}:\n{}", self.body);
        self
    }

    pub fn location(&self) -> Option<&str> {
        self.headers.get("location").and_then(|v| v.to_str().ok())
    }

    /// The value of the first `attr="…"` after `marker` in the page.
    pub fn attribute_after(&self, marker: &str, attr: &str) -> Option<String> {
        let start = self.body.find(marker)?;
        let rest = &self.body[start..];
        let at = rest.find(&format!("{attr}=\""))? + attr.len() + 2;
        let end = rest[at..].find('"')?;
        Some(rest[at..at + end].to_owned())
    }

    /// The CSRF token the page carries in `<meta name="stembus-csrf">`.
    pub fn csrf(&self) -> Option<String> {
        self.attribute_after("name=\"stembus-csrf\"", "content")
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

impl<'a> Browser<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        let client = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_else(|e| panic!("{e}"));
        Browser { app, client, cookies: BTreeMap::new() }
    }

    fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    fn answer(&mut self, response: reqwest::blocking::Response) -> Answer {
        let status = response.status();
        let headers = response.headers().clone();
        let set_cookies: Vec<String> =
            headers.get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).map(str::to_owned).collect();
        for line in &set_cookies {
            let pair = line.split(';').next().unwrap_or_default();
            if let Some((name, value)) = pair.split_once('=') {
                let deleted = line.contains("Max-Age=0") || value.is_empty();
                if deleted {
                    self.cookies.remove(name);
                } else {
                    self.cookies.insert(name.to_owned(), value.to_owned());
                }
            }
        }
        let body = response.text().unwrap_or_default();
        Answer { status, headers, body, set_cookies }
    }

    pub fn get(&mut self, path: &str) -> Answer {
        let response = self
            .client
            .get(format!("{}{path}", self.app.address))
            .header("cookie", self.cookie_header())
            .send()
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        self.answer(response)
    }

    pub fn post_form(&mut self, path: &str, form: &[(&str, &str)]) -> Answer {
        let response = self
            .client
            .post(format!("{}{path}", self.app.address))
            .header("cookie", self.cookie_header())
            .form(form)
            .send()
            .unwrap_or_else(|e| panic!("POST {path}: {e}"));
        self.answer(response)
    }

    /// Calls `/api/v1` with the cookies, as a page's script does; `csrf` goes in
    /// `X-Stembus-CSRF`.
    pub fn api(
        &mut self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        csrf: Option<&str>,
    ) -> Answer {
        let mut request = self
            .client
            .request(method, format!("{}/api/v1{path}", self.app.address))
            .header("cookie", self.cookie_header());
        if let Some(token) = csrf {
            request = request.header("x-stembus-csrf", token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().unwrap_or_else(|e| panic!("{path}: {e}"));
        self.answer(response)
    }

    /// Signs in through the pages: association and e-mail, the code from the outbox, the
    /// code. Returns the answer to the code (a redirect home with the session cookie).
    pub fn sign_in(&mut self, email: &str) -> Answer {
        let start = self.get("/");
        assert_eq!(start.status, StatusCode::OK, "{}", start.body);
        let presession = self.cookies.get("stembus_presession").cloned().unwrap_or_default();
        let before = self.app.mails();
        let association = crate::support::coop().to_string();
        let sent = self.post_form(
            "/sign-in",
            &[("presession", &presession), ("association", &association), ("email", email)],
        );
        assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
        let code = self
            .app
            .mails()
            .into_iter()
            .filter(|m| !before.contains(m))
            .filter_map(|m| std::fs::read_to_string(m).ok())
            .find_map(|text| text.lines().find_map(|l| l.strip_prefix("Code: ")).map(|c| c.trim().to_owned()))
            .unwrap_or_else(|| panic!("no sign-in mail for {email}"));
        self.post_form("/sign-in/code", &[("presession", &presession), ("code", &code)])
    }
}

/// A browser signed in as `email`.
#[track_caller]
pub fn signed_in<'a>(app: &'a TestApp, email: &str) -> Browser<'a> {
    let mut browser = Browser::new(app);
    let answer = browser.sign_in(email);
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    browser
}

/// The CSRF token of a page, which must carry one.
#[track_caller]
pub fn csrf_of(page: &Answer) -> String {
    page.csrf().unwrap_or_else(|| panic!("no CSRF token on the page:\n{}", page.body))
}
