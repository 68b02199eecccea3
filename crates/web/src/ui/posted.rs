//! A form posted by a signed-in user, its CSRF token checked: what every form handler of the UI
//! starts with.

use axum::extract::{Form, FromRequest, FromRequestParts, Request};
use axum::response::{IntoResponse, Response};

use super::{error_page, form_get};
use crate::State;
use crate::auth::{UiUser, check_csrf};

/// The user and the form's fields in order. A visitor without a session is sent to sign in; a
/// form whose token is not the session's gets the "form has expired" page, and the handler
/// does not run.
pub struct Posted {
    pub user: UiUser,
    pub form: Vec<(String, String)>,
}

impl FromRequest<State> for Posted {
    type Rejection = Response;

    async fn from_request(req: Request, state: &State) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let user = UiUser::from_request_parts(&mut parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let req = Request::from_parts(parts, body);
        let Form(form) = Form::<Vec<(String, String)>>::from_request(req, state)
            .await
            .map_err(IntoResponse::into_response)?;
        if let Err(e) = check_csrf(&user, form_get(&form, "_csrf")) {
            return Err(error_page(&user, e));
        }
        Ok(Posted { user, form })
    }
}
