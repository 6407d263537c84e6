//! Errors answered over HTTP: one type, one status table, plain-text bodies.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use ember_engine::EmberError;

/// A request that cannot be answered with a prediction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// A plain message naming what was wrong (column, record, expected value).
    pub message: String,
}

impl ApiError {
    /// 400: the client's request is wrong.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
        }
    }

    /// 415: the body's media type is not one the contract accepts.
    pub fn unsupported_media(content_type: Option<&str>) -> Self {
        Self {
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            message: format!(
                "Content-Type {} is not supported; send text/csv, application/json or \
                 application/jsonlines",
                content_type
                    .map(|c| format!("'{c}'"))
                    .unwrap_or_else(|| "(none)".into())
            ),
        }
    }

    /// 413: the body is larger than the server takes.
    pub fn payload_too_large(limit: usize) -> Self {
        Self {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            message: format!(
                "the request body is larger than the limit of {limit} bytes; send fewer \
                 records per request"
            ),
        }
    }

    /// 408: the request body did not arrive whole within the body timeout (the connection
    /// closes after the answer).
    pub fn request_timeout(timeout: std::time::Duration) -> Self {
        Self {
            status: StatusCode::REQUEST_TIMEOUT,
            message: format!(
                "the request body did not arrive within the body timeout of {} s ({})",
                timeout.as_secs_f64(),
                super::conn::flags::BODY_TIMEOUT
            ),
        }
    }

    /// 503: the server is at a capacity limit right now; the answer carries `Retry-After`.
    /// `what` names the limit, its value and its flag.
    pub fn overloaded(what: impl std::fmt::Display) -> Self {
        Self {
            status: StatusCode::SERVICE_UNAVAILABLE,
            message: format!("the server is at its limit of {what}; retry later"),
        }
    }

    /// The answer to a scoring error: 400 when the request's data caused it (a record a stage
    /// rejects, named by its 1-based position in the request), 500 otherwise.
    pub fn from_ember(e: EmberError) -> Self {
        match &e {
            EmberError::Row { row, source } => {
                Self::bad_request(format!("record {}: {source}", row + 1))
            }
            e if e.is_data_error() => Self::bad_request(e.to_string()),
            e => Self::internal(e.to_string()),
        }
    }

    /// 500: a fault of the server, not the request (logged).
    pub fn internal(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.message)
    }
}

/// The error message, attached to an error response for the request log.
#[derive(Debug, Clone)]
pub struct ErrorMessage(pub String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (self.status, self.message.clone()).into_response();
        r.extensions_mut().insert(ErrorMessage(self.message));
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        if self.status == StatusCode::REQUEST_TIMEOUT {
            // the rest of the body may still come: do not read it as the next request
            r.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        if self.status == StatusCode::UNSUPPORTED_MEDIA_TYPE {
            r.headers_mut().insert(
                header::ACCEPT,
                HeaderValue::from_static("application/json, text/csv, application/jsonlines"),
            );
        }
        r
    }
}
