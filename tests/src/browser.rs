//! A browser, as far as the portal can tell (for the portal's tests and its benchmark): a cookie jar, forms read from the page and posted back, and
//! redirects followed one at a time (each one is something to check).

use std::sync::Arc;

use reqwest::StatusCode;
use reqwest::cookie::{CookieStore, Jar};
use reqwest::header::{ACCEPT, HeaderMap, LOCATION};
use scraper::{Html, Selector};

pub struct Browser {
    pub base_url: String,
    pub jar: Arc<Jar>,
    http: reqwest::Client,
}

/// A page as the browser received it.
pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub url: String,
    pub body: String,
}

impl Page {
    pub fn html(&self) -> Html {
        Html::parse_document(&self.body)
    }

    /// The text of every element `selector` matches, whitespace collapsed.
    pub fn texts(&self, selector: &str) -> Vec<String> {
        let html = self.html();
        html.select(&Selector::parse(selector).unwrap())
            .map(|e| e.text().collect::<String>().split_whitespace().collect::<Vec<_>>().join(" "))
            .collect()
    }

    /// An attribute of the first element `selector` matches.
    pub fn attr(&self, selector: &str, name: &str) -> Option<String> {
        let html = self.html();
        let element = html.select(&Selector::parse(selector).unwrap()).next()?;
        element.value().attr(name).map(str::to_owned)
    }

    pub fn h1(&self) -> String {
        self.texts("h1").into_iter().next().unwrap_or_default()
    }

    pub fn location(&self) -> Option<&str> {
        self.headers.get(LOCATION).and_then(|v| v.to_str().ok())
    }

    /// The form `selector` picks: its action and every named field's value (hidden ones included), with
    /// `overrides` set on top (radios and checkboxes as checked; a submit button's value only from `overrides`).
    pub fn form(&self, selector: &str, overrides: &[(&str, &str)]) -> (String, Vec<(String, String)>) {
        let html = self.html();
        let form = html.select(&Selector::parse(selector).unwrap()).next().unwrap_or_else(|| {
            panic!("no form {selector} on {}: {}", self.url, self.body);
        });
        let action = form.value().attr("action").unwrap_or("").to_owned();
        // What a browser sends: every named input (a radio or checkbox only when checked) and textarea.
        let mut fields: Vec<(String, String)> = form
            .select(&Selector::parse("input[name], textarea[name]").unwrap())
            .filter(|i| i.value().attr("disabled").is_none())
            .filter(|i| match i.value().attr("type") {
                Some("radio" | "checkbox") => i.value().attr("checked").is_some(),
                Some("submit") => false,
                _ => true,
            })
            .map(|i| {
                let value = match i.value().name() {
                    "textarea" => i.text().collect::<String>(),
                    _ if matches!(i.value().attr("type"), Some("radio" | "checkbox")) => {
                        i.value().attr("value").unwrap_or("on").to_owned()
                    }
                    _ => i.value().attr("value").unwrap_or("").to_owned(),
                };
                (i.value().attr("name").unwrap().to_owned(), value)
            })
            .collect();
        for (name, value) in overrides {
            fields.retain(|(n, _)| n != name);
            fields.push(((*name).to_owned(), (*value).to_owned()));
        }
        (action, fields)
    }
}

impl Browser {
    pub fn new(base_url: &str) -> Self {
        Self::with_headers(base_url, HeaderMap::new())
    }

    /// A browser reaching the service through a load balancer that says it is at `address`.
    pub fn at(base_url: &str, address: std::net::IpAddr) -> Self {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", address.to_string().parse().unwrap());
        Self::with_headers(base_url, headers)
    }

    fn with_headers(base_url: &str, headers: HeaderMap) -> Self {
        let jar = Arc::new(Jar::default());
        let http = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .default_headers(headers)
            .build()
            .unwrap();
        Self { base_url: base_url.to_owned(), jar, http }
    }

    fn absolute(&self, url: &str) -> String {
        if url.starts_with("http") { url.to_owned() } else { format!("{}{url}", self.base_url) }
    }

    pub async fn get(&self, url: &str) -> Page {
        let url = self.absolute(url);
        let response = self.http.get(&url).header(ACCEPT, "text/html").send().await.unwrap();
        Self::page(url, response).await
    }

    pub async fn post(&self, url: &str, fields: &[(String, String)]) -> Page {
        let url = self.absolute(url);
        let response = self.http.post(&url).header(ACCEPT, "text/html").form(fields).send().await.unwrap();
        Self::page(url, response).await
    }

    /// Posts a file upload as a browser does (`multipart/form-data`): `fields` in order, then the file as
    /// `file_field` (an empty `filename` is what a browser sends when no file was chosen).
    pub async fn post_file(
        &self,
        url: &str,
        fields: &[(String, String)],
        file_field: &str,
        filename: &str,
        media_type: &str,
        content: Vec<u8>,
    ) -> Page {
        let boundary = format!("----portal-test-{}", uuid::Uuid::new_v4().simple());
        let mut body = Vec::new();
        for (name, value) in fields {
            body.extend(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").bytes(),
            );
        }
        body.extend(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{file_field}\"; filename=\"{filename}\"\r\n\
                 Content-Type: {media_type}\r\n\r\n"
            )
            .bytes(),
        );
        body.extend(content);
        body.extend(format!("\r\n--{boundary}--\r\n").bytes());
        let url = self.absolute(url);
        let request = self.http.post(&url).header(ACCEPT, "text/html");
        let request = request.header("content-type", format!("multipart/form-data; boundary={boundary}"));
        Self::page(url, request.body(body).send().await.unwrap()).await
    }

    /// Submits a page's form, as pressing its button would.
    pub async fn submit(&self, page: &Page, selector: &str, overrides: &[(&str, &str)]) -> Page {
        let (action, fields) = page.form(selector, overrides);
        // A path is on the page's own origin (the API's sign-in page is not always the portal's).
        let target = match action.as_str() {
            "" => page.url.clone(),
            path if path.starts_with('/') => {
                let origin: String = page.url.splitn(4, '/').take(3).collect::<Vec<_>>().join("/");
                format!("{origin}{path}")
            }
            absolute => absolute.to_owned(),
        };
        self.post(&target, &fields).await
    }

    /// Follows redirects from `page` until one is not, returning every page on the way.
    pub async fn follow(&self, mut page: Page) -> Page {
        for _ in 0..10 {
            let Some(location) = page.location().map(str::to_owned) else { return page };
            assert!(page.status.is_redirection(), "{} has a Location but is {}", page.url, page.status);
            page = self.get(&location).await;
        }
        panic!("more than ten redirects from {}", page.url)
    }

    async fn page(url: String, response: reqwest::Response) -> Page {
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.text().await.unwrap();
        Page { status, headers, url, body }
    }

    /// The session cookie's value, if the browser holds one.
    pub fn session_id(&self) -> Option<String> {
        let url = self.base_url.parse().unwrap();
        let cookies = self.jar.cookies(&url)?;
        cookies.to_str().unwrap().split("; ").find_map(|pair| pair.strip_prefix("portal_session=").map(str::to_owned))
    }

    /// Signs in through the portal: its start, the API's sign-in page, and back. Returns the page signing in
    /// ended on.
    pub async fn sign_in(&self, email: &str, password: &str) -> Page {
        self.sign_in_from("/sign-in", email, password).await
    }

    pub async fn sign_in_from(&self, start: &str, email: &str, password: &str) -> Page {
        let sign_in_page = self.follow(self.get(start).await).await;
        assert_eq!(sign_in_page.status, StatusCode::OK, "{}", sign_in_page.body);
        assert!(sign_in_page.url.contains("/v1/oauth/authorize"), "signing in is the API's page: {}", sign_in_page.url);
        let answered = self
            .submit(&sign_in_page, "form", &[("email", email), ("password", password), ("decision", "allow")])
            .await;
        self.follow(answered).await
    }
}
