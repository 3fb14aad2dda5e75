//! Requests that cannot be decoded are the caller's fault, and answer
//! INVALID_ARGUMENT.
//!
//! tonic answers a request body that is not valid protobuf — nested too
//! deep (prost stops at 100 levels: a `google.protobuf.Struct` inside a
//! `Struct` …), truncated, wrongly tagged, or flagged compressed without an
//! encoding — with INTERNAL, and one over the size limit with OUT_OF_RANGE,
//! before any handler runs. Clients, alerts and retry policies read
//! INTERNAL as a server fault, so this layer rewrites those trailers-only
//! answers into INVALID_ARGUMENT with a clear message and a
//! `MALFORMED_REQUEST` reason, keeping every other answer as it is.

use tonic::Code;

/// The `ErrorInfo.reason` of a request that could not be decoded.
pub const MALFORMED_REQUEST: &str = crate::error::Reason::MalformedRequest.as_str();

/// Rewrites a decode failure of the request into INVALID_ARGUMENT; any
/// other response passes unchanged. For `tower::util::MapResponseLayer`.
pub fn rewrite<B: Default>(response: http::Response<B>) -> http::Response<B> {
    let Some(message) = malformed_message(&response) else { return response };
    let status =
        crate::error::with_reason(Code::InvalidArgument, message, crate::error::Reason::MalformedRequest, "jazz");
    let mut rewritten = status.into_http::<B>();
    for name in [crate::server::REQUEST_ID_HEADER] {
        if let Some(value) = response.headers().get(&name) {
            rewritten.headers_mut().insert(name, value.clone());
        }
    }
    rewritten
}

/// What to tell the caller, when `response` is tonic's answer to a request
/// it could not decode.
fn malformed_message<B>(response: &http::Response<B>) -> Option<&'static str> {
    let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok());
    let code = header("grpc-status")?;
    let message = percent_decoded(header("grpc-message").unwrap_or_default());
    match code {
        // INTERNAL from the protobuf decoder or the frame reader.
        "13" if message.starts_with("failed to decode Protobuf message") => {
            Some(if message.contains("recursion limit") {
                "the request nests messages too deeply (at most 100 levels)"
            } else {
                "the request is not a valid protobuf message for this method"
            })
        }
        "13" if message.starts_with("protocol error: received message with") => {
            Some("the request frame is malformed (compression flag without a grpc-encoding)")
        }
        // OUT_OF_RANGE from the frame reader.
        "11" if message.starts_with("Error, decoded message length too large") => {
            Some("the request is larger than this server accepts")
        }
        _ => None,
    }
}

/// `grpc-message` is percent-encoded; decoding is only needed far enough
/// to compare prefixes, so invalid sequences are kept as they are.
fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(code: Code, message: &str) -> http::Response<tonic::body::Body> {
        tonic::Status::new(code, message).into_http()
    }

    fn status_of(response: &http::Response<tonic::body::Body>) -> (String, String) {
        let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        (header("grpc-status"), percent_decoded(&header("grpc-message")))
    }

    #[test]
    fn a_decode_failure_becomes_invalid_argument() {
        let deep = answer(
            Code::Internal,
            "failed to decode Protobuf message: Value.kind: Struct.fields: recursion limit reached",
        );
        let (code, message) = status_of(&rewrite(deep));
        assert_eq!(code, "3");
        assert!(message.contains("too deeply"), "{message}");

        let garbage = answer(Code::Internal, "failed to decode Protobuf message: invalid wire type value: 7");
        assert_eq!(status_of(&rewrite(garbage)).0, "3");

        let large =
            answer(Code::OutOfRange, "Error, decoded message length too large: found 9 bytes, the limit is: 4 bytes");
        let (code, message) = status_of(&rewrite(large));
        assert_eq!(code, "3");
        assert!(!message.contains("bytes"), "no sizes of the server's: {message}");
    }

    #[test]
    fn other_answers_pass_unchanged() {
        for (code, message) in [(Code::Internal, "internal error (id 01H)"), (Code::OutOfRange, "page beyond the end")]
        {
            let (got_code, got_message) = status_of(&rewrite(answer(code, message)));
            assert_eq!(got_code, (code as i32).to_string());
            assert_eq!(got_message, message);
        }
        let ok = http::Response::new(tonic::body::Body::default());
        assert!(rewrite(ok).headers().get("grpc-status").is_none());
    }
}
