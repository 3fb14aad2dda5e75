//! The one HTTP client for services outside the suite (an OAuth provider's
//! discovery document and signing keys; Stripe's form-encoded API). HTTPS with the
//! Mozilla roots compiled in (the image needs no certificate store), plain
//! HTTP for local stand-ins in tests; every request has a deadline and every
//! body read a size cap, so a slow or hostile peer can hold up nothing.
//!
//! Errors carry no URL query and no body: they are safe to log and to keep
//! as a delivery's `last_error`.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Request, StatusCode};
use http_body_util::{BodyExt as _, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::de::DeserializeOwned;

/// The default largest response body read, in bytes.
pub const DEFAULT_MAX_BODY: usize = 1024 * 1024;

/// Why a request to an outside service failed.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum HttpError {
    /// The URL cannot be requested (not http or https, no host).
    #[error("bad URL")]
    BadUrl,
    /// Connecting, TLS, or the exchange itself failed.
    #[error("request failed: {0}")]
    Transport(String),
    /// No complete answer within the deadline.
    #[error("timed out")]
    Timeout,
    /// The body was longer than the cap.
    #[error("response body over {0} bytes")]
    TooLarge(usize),
    /// An answer with a status other than 2xx.
    #[error("answered HTTP {0}")]
    Status(u16),
    /// A 2xx answer whose body is not the JSON expected.
    #[error("unexpected response body: {0}")]
    Json(String),
}

/// A whole response.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    /// The status code.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body, at most the client's cap.
    pub body: Bytes,
}

/// An HTTP/1.1 client with pooled connections (cheap to clone).
#[derive(Clone)]
pub struct HttpClient {
    inner: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    timeout: Duration,
    max_body: usize,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient").field("timeout", &self.timeout).field("max_body", &self.max_body).finish()
    }
}

impl HttpClient {
    /// A client whose requests each finish within `timeout` (connect, send
    /// and the whole body), reading at most [`DEFAULT_MAX_BODY`] bytes.
    /// Fails only if TLS cannot be set up (ring offering no TLS version).
    pub fn new(timeout: Duration) -> Result<Self, HttpError> {
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_webpki_roots(rustls::crypto::ring::default_provider())
            .map_err(|error| HttpError::Transport(format!("TLS set-up: {error}")))?
            .https_or_http()
            .enable_http1()
            .build();
        let inner = Client::builder(TokioExecutor::new()).pool_idle_timeout(Duration::from_secs(60)).build(https);
        Ok(Self { inner, timeout, max_body: DEFAULT_MAX_BODY })
    }

    /// The same client reading at most `max_body` bytes of a body.
    pub fn with_max_body(mut self, max_body: usize) -> Self {
        self.max_body = max_body;
        self
    }

    /// Sends `request` and reads the whole response (any status).
    pub async fn send(&self, request: Request<Full<Bytes>>) -> Result<HttpResponse, HttpError> {
        let scheme_ok = matches!(request.uri().scheme_str(), Some("http" | "https"));
        if !scheme_ok || request.uri().host().is_none() {
            return Err(HttpError::BadUrl);
        }
        let exchange = async {
            let response = self.inner.request(request).await.map_err(|error| HttpError::Transport(describe(&error)))?;
            let (parts, body) = response.into_parts();
            let body = Limited::new(body, self.max_body).collect().await.map_err(|error| {
                if error.is::<http_body_util::LengthLimitError>() {
                    HttpError::TooLarge(self.max_body)
                } else {
                    HttpError::Transport(error.to_string())
                }
            })?;
            Ok(HttpResponse { status: parts.status, headers: parts.headers, body: body.to_bytes() })
        };
        tokio::time::timeout(self.timeout, exchange).await.map_err(|_| HttpError::Timeout)?
    }

    /// GETs `url` and parses a 2xx body as JSON.
    pub async fn get_json<T: DeserializeOwned>(&self, url: &str) -> Result<T, HttpError> {
        let request = Request::get(url)
            .header(http::header::ACCEPT, "application/json")
            .body(Full::new(Bytes::new()))
            .map_err(|_| HttpError::BadUrl)?;
        let response = self.send(request).await?;
        if !response.status.is_success() {
            return Err(HttpError::Status(response.status.as_u16()));
        }
        serde_json::from_slice(&response.body).map_err(|error| HttpError::Json(error.to_string()))
    }
}

impl HttpClient {
    /// POSTs `body` with `headers` (add `content-type` there) and reads the
    /// whole response (any status; the caller judges it).
    pub async fn post(&self, url: &str, headers: HeaderMap, body: Bytes) -> Result<HttpResponse, HttpError> {
        let mut request = Request::post(url).body(Full::new(body)).map_err(|_| HttpError::BadUrl)?;
        request.headers_mut().extend(headers);
        self.send(request).await
    }

    /// POSTs `fields` as `application/x-www-form-urlencoded` (the form of
    /// Stripe's API) with `headers`, and reads the whole response (any
    /// status). Mark secret header values sensitive (`set_sensitive`).
    pub async fn post_form(
        &self,
        url: &str,
        mut headers: HeaderMap,
        fields: &[(&str, &str)],
    ) -> Result<HttpResponse, HttpError> {
        headers.insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/x-www-form-urlencoded"));
        headers.insert(http::header::ACCEPT, http::HeaderValue::from_static("application/json"));
        self.post(url, headers, Bytes::from(form_encode(fields))).await
    }
}

/// `application/x-www-form-urlencoded` (WHATWG URL, "urlencoded
/// serializer"): `*-._` and alphanumerics kept, space as `+`, every other
/// byte of the UTF-8 as `%XX`.
pub fn form_encode(fields: &[(&str, &str)]) -> String {
    fn push(out: &mut String, text: &str) {
        for byte in text.bytes() {
            match byte {
                b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => out.push(char::from(byte)),
                b' ' => out.push('+'),
                other => {
                    const HEX: &[u8; 16] = b"0123456789ABCDEF";
                    out.push('%');
                    out.push(char::from(HEX[usize::from(other >> 4)]));
                    out.push(char::from(HEX[usize::from(other & 0x0f)]));
                }
            }
        }
    }
    let mut out = String::new();
    for (index, (name, value)) in fields.iter().enumerate() {
        if index > 0 {
            out.push('&');
        }
        push(&mut out, name);
        out.push('=');
        push(&mut out, value);
    }
    out
}

/// The error and its causes in one line (hyper's own message is only
/// "client error (Connect)").
fn describe(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_are_encoded_like_a_browser_would() {
        let encoded =
            form_encode(&[("line_items[0][price]", "price_1"), ("url", "https://a.b/c?d=e f&g"), ("é", "*-._~")]);
        assert_eq!(
            encoded,
            "line_items%5B0%5D%5Bprice%5D=price_1&url=https%3A%2F%2Fa.b%2Fc%3Fd%3De+f%26g&%C3%A9=*-._%7E"
        );
        assert_eq!(form_encode(&[]), "");
    }

    #[tokio::test]
    async fn only_http_and_https_urls_are_requested() -> anyhow::Result<()> {
        let client = HttpClient::new(Duration::from_secs(1))?;
        assert_eq!(client.get_json::<serde_json::Value>("ftp://example.com/x").await.err(), Some(HttpError::BadUrl));
        assert_eq!(client.get_json::<serde_json::Value>("/relative").await.err(), Some(HttpError::BadUrl));
        Ok(())
    }

    #[tokio::test]
    async fn a_closed_port_is_a_transport_error() -> anyhow::Result<()> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        drop(listener);
        let client = HttpClient::new(Duration::from_secs(2))?;
        let error = client.get_json::<serde_json::Value>(&format!("http://127.0.0.1:{port}/")).await.err();
        assert!(matches!(error, Some(HttpError::Transport(_))), "{error:?}");
        Ok(())
    }
}
