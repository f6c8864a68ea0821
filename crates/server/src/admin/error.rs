//! Errors of the admin side, and how the admin API answers with them:
//! `{"code": "snake_case_code", "message": "A sentence."}` with a status
//! that matches.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use confab_proto::admin::{AdminError, AdminErrorCode};
use serde::de::DeserializeOwned;

use crate::error::ServerError;
use crate::meetings::MeetingError;

use super::accounts::MIN_PASSWORD_CHARS;

/// Why an admin could not log in, set up, or reach the API.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("The password has {len} characters; use at least {MIN_PASSWORD_CHARS}.")]
    PasswordTooShort { len: usize },
    #[error("That is not the admin password.")]
    WrongPassword,
    #[error(
        "No admin password is set yet. Open the set-up link the server printed when it \
         started, or run `confab-server admin set-password` on the server."
    )]
    SetupRequired,
    #[error(
        "This set-up link is not valid: it was used already, or the server restarted and \
         printed a new one."
    )]
    InvalidSetupToken,
    #[error("The admin password is already set; log in with it instead.")]
    AlreadySetUp,
    #[error("Too many failed attempts from your address. Try again in {retry_after_secs} seconds.")]
    TooManyAttempts { retry_after_secs: u64 },
    #[error(
        "Log in first: send `Authorization: Bearer <token>` or the session cookie from \
         POST /api/admin/login. Sessions end after a while; log in again if yours did."
    )]
    Unauthenticated,
    #[error(
        "This change needs the X-CSRF-Token header with your session's token \
         (GET /api/admin/session shows it)."
    )]
    CsrfFailed,
    #[error("password hashing failed")]
    Hashing(#[source] argon2::password_hash::Error),
    #[error(transparent)]
    Storage(#[from] ServerError),
}

/// Everything an admin API handler can answer with instead of success.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error(transparent)]
    Meeting(#[from] MeetingError),
    #[error("The request body is not valid: {0}.")]
    InvalidRequest(String),
    #[error(
        "This meeting has no start time, so there is no calendar invitation; \
         share its join link instead."
    )]
    NotScheduled,
    #[error("There is no admin API endpoint at this path; docs/admin-api.md lists them.")]
    NoSuchEndpoint,
    #[error("The licence was not installed: {0}")]
    LicenceRefused(confab_license::LicenceError),
    /// A live connection or meeting named in the path is not there (any more).
    #[error("{0}")]
    NotLive(String),
    #[error(transparent)]
    Server(#[from] ServerError),
}

impl ApiError {
    pub fn code(&self) -> AdminErrorCode {
        use AdminErrorCode as C;
        match self {
            ApiError::Auth(e) => match e {
                AuthError::PasswordTooShort { .. } => C::PasswordTooShort,
                AuthError::WrongPassword => C::WrongPassword,
                AuthError::SetupRequired => C::SetupRequired,
                AuthError::InvalidSetupToken => C::InvalidSetupToken,
                AuthError::AlreadySetUp => C::AlreadySetUp,
                AuthError::TooManyAttempts { .. } => C::TooManyAttempts,
                AuthError::Unauthenticated => C::Unauthenticated,
                AuthError::CsrfFailed => C::CsrfFailed,
                AuthError::Hashing(_) | AuthError::Storage(_) => C::Internal,
            },
            ApiError::Meeting(e) => match e {
                MeetingError::EmptyTitle
                | MeetingError::TitleTooLong { .. }
                | MeetingError::TitleHasControlCharacters => C::InvalidTitle,
                MeetingError::PasscodeLength { .. }
                | MeetingError::PasscodeHasControlCharacters => C::InvalidPasscode,
                MeetingError::Duration { .. } => C::InvalidDuration,
                MeetingError::StartsAt { .. } => C::InvalidStartsAt,
                MeetingError::ScheduleIncomplete { .. } => C::ScheduleIncomplete,
                MeetingError::NotFound { .. } => C::MeetingNotFound,
                MeetingError::NoFreeCode { .. } | MeetingError::Storage(_) => C::Internal,
            },
            ApiError::InvalidRequest(_) => C::InvalidRequest,
            ApiError::NotScheduled => C::NotScheduled,
            ApiError::NoSuchEndpoint => C::NotFound,
            ApiError::LicenceRefused(_) => C::LicenceRefused,
            ApiError::NotLive(_) => C::NotLive,
            ApiError::Server(_) => C::Internal,
        }
    }

    pub fn status(&self) -> StatusCode {
        use AdminErrorCode as C;
        match self.code() {
            C::InvalidRequest
            | C::InvalidTitle
            | C::InvalidPasscode
            | C::InvalidDuration
            | C::InvalidStartsAt
            | C::ScheduleIncomplete
            | C::PasswordTooShort
            | C::LicenceRefused => StatusCode::BAD_REQUEST,
            C::Unauthenticated | C::WrongPassword => StatusCode::UNAUTHORIZED,
            C::CsrfFailed | C::InvalidSetupToken => StatusCode::FORBIDDEN,
            C::SetupRequired | C::AlreadySetUp => StatusCode::CONFLICT,
            C::TooManyAttempts => StatusCode::TOO_MANY_REQUESTS,
            C::MeetingNotFound | C::NotScheduled | C::NotFound | C::NotLive => {
                StatusCode::NOT_FOUND
            }
            C::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The sentence shown to the person. Internal failures are logged in
    /// full and shown without details, which may name files on the server.
    pub fn message(&self) -> String {
        if self.code() == AdminErrorCode::Internal {
            "Something went wrong inside the server; its log has the details.".to_owned()
        } else {
            self.to_string()
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(error = %error_chain(&self), "admin request failed");
        }
        let body = AdminError {
            code: self.code(),
            message: self.message(),
        };
        let mut response = (status, Json(body)).into_response();
        let headers = response.headers_mut();
        if let ApiError::Auth(AuthError::TooManyAttempts { retry_after_secs }) = &self {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
        }
        if matches!(self, ApiError::Auth(AuthError::Unauthenticated)) {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"confab-admin\""),
            );
        }
        response
    }
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// `axum::Json`, but a body that does not parse is answered in the admin
/// API's error shape instead of plain text.
#[derive(Debug)]
pub(crate) struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(ApiError::InvalidRequest(rejection_text(&rejection))),
        }
    }
}

fn rejection_text(rejection: &JsonRejection) -> String {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => {
            "send it as JSON with `Content-Type: application/json`".to_owned()
        }
        other => other.body_text(),
    }
}
