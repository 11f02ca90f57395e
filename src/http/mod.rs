//! The HTTP interface, `/api/v1`: thin. Authenticate, authorise by role, decode, call the
//! service (one blocking task per use case), encode. **Only this module knows HTTP.**
//! Errors are RFC 9457 problems ([`problem`]); the OpenAPI document is generated from the
//! same route definitions that serve requests, so it cannot drift from them.

pub mod api;
pub mod auth;
pub mod live;
pub mod problem;
pub mod schemas;

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers, Next};
use actix_web::{App, HttpResponse, HttpServer, web};
use utoipa::OpenApi as _;
use utoipa_actix_web::{AppExt, scope};

use self::auth::Authenticator;
use self::problem::ApiError;
use crate::clock::Clock;
use crate::config::Config;
use crate::core::{Association, AssociationId, Command};
use crate::outbox::Outbox;
use crate::service::Service;
use crate::store::log::Logged;

/// The version of the API, sent in every response's `API-Version` header.
pub const API_VERSION: &str = "1.0.0";

/// What every request handler shares.
#[derive(Debug)]
pub struct AppState {
    pub service: Arc<Service>,
    pub clock: Arc<dyn Clock>,
    pub outbox: Arc<dyn Outbox>,
    pub authenticator: Arc<dyn Authenticator>,
    pub live: live::Hub,
    pub config: Config,
    /// The public half of the service's key.
    pub service_key: ed25519_dalek::VerifyingKey,
}

impl AppState {
    /// Carries out a command for an association now, and tells live listeners.
    pub async fn execute(
        &self,
        association: AssociationId,
        command: Command,
    ) -> Result<Vec<Logged>, ApiError> {
        let service = Arc::clone(&self.service);
        let now = self.clock.now();
        let logged = web::block(move || service.execute(association, command, now)).await??;
        self.live.publish(association, &logged);
        Ok(logged)
    }

    /// Reads an association's state.
    pub async fn read<R: Send + 'static>(
        &self,
        association: AssociationId,
        f: impl FnOnce(&Association) -> R + Send + 'static,
    ) -> Result<R, ApiError> {
        let service = Arc::clone(&self.service);
        Ok(web::block(move || service.read(association, f)).await??)
    }
}

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Stembus",
        description = "Verifiable digital voting for the general meeting of a cooperative association. Refusals are RFC 9457 problems that name the rule and article of the statutes.",
        license(name = "EUPL-1.2", identifier = "EUPL-1.2")
    ),
    components(schemas(
        problem::Problem,
        crate::core::AgendaItemId,
        crate::core::AssociationId,
        crate::core::MeetingId,
        crate::core::MemberId,
        crate::core::PersonId,
        crate::core::PollId,
        crate::core::ProxyId,
        crate::core::RequestId,
        crate::core::ResolutionId
    )),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A session token from POST /api/v1/sessions"))
                    .build(),
            ),
        );
        openapi.security =
            Some(vec![utoipa::openapi::security::SecurityRequirement::new("bearer", Vec::<String>::new())]);
    }
}

/// Adds a request id and the API version to every response, and logs the request (never its
/// headers or body, which may carry tokens).
async fn stamp(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.len() <= 64 && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        .map(str::to_owned)
        .unwrap_or_else(request_id);
    let method = req.method().to_string();
    let path = req.path().to_owned();
    let started = std::time::Instant::now();
    let span = tracing::info_span!("request", request_id = %id, %method, %path);
    // The span follows the request across its awaits, so concurrent requests' lines keep
    // their own ids.
    let mut res = tracing::Instrument::instrument(next.call(req), span.clone()).await?;
    let status = res.status().as_u16();
    span.in_scope(|| tracing::info!(status, elapsed_ms = started.elapsed().as_millis() as u64, "request"));
    let headers = res.headers_mut();
    headers.insert(HeaderName::from_static("api-version"), HeaderValue::from_static(API_VERSION));
    if let Ok(v) = HeaderValue::from_str(&id) {
        headers.insert(HeaderName::from_static("x-request-id"), v);
    }
    Ok(res)
}

fn request_id() -> String {
    let mut bytes = [0u8; 8];
    let _ = getrandom::fill(&mut bytes);
    ::hex::encode(bytes)
}

/// Turns the framework's own bare errors (no route, wrong method) into problems.
fn problem_for_bare_error<B>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_problem = res
        .response()
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    // The web pages answer their own errors as pages.
    let is_page = res
        .response()
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    if is_problem || is_page {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let error = match status {
        StatusCode::NOT_FOUND => {
            ApiError::not_found("route.unknown", format!("There is no {} here.", res.request().path()))
        }
        StatusCode::METHOD_NOT_ALLOWED => ApiError::new(
            status,
            "route.method_not_allowed",
            "Method not allowed",
            format!("{} is not allowed on {}.", res.request().method(), res.request().path()),
        ),
        s if s.is_client_error() => ApiError::new(
            s,
            "request.refused",
            "The request is refused",
            s.canonical_reason().unwrap_or("refused"),
        ),
        _ => ApiError::internal(),
    };
    let (req, _) = res.into_parts();
    let response = actix_web::ResponseError::error_response(&error);
    Ok(ErrorHandlerResponse::Response(ServiceResponse::new(req, response).map_into_right_body()))
}

/// The application, with its OpenAPI document generated from the same routes.
pub fn app(
    state: web::Data<AppState>,
) -> App<
    impl actix_web::dev::ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let limit = state.config.max_body_bytes;
    // The document's own route comes first: the /api/v1 scope below would otherwise take it.
    let (app, mut doc) = App::new()
        .route("/api/v1/openapi.json", web::get().to(openapi_json))
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .app_data(state)
        .app_data(web::PayloadConfig::new(limit))
        .app_data(web::JsonConfig::default().limit(limit).error_handler(|e, _| problem::json_error(e).into()))
        .app_data(web::PathConfig::default().error_handler(|e, _| {
            ApiError::not_found("route.invalid_id", format!("An id in the path is not valid: {e}")).into()
        }))
        .app_data(web::QueryConfig::default().error_handler(|e, _| {
            ApiError::bad_request("request.invalid_query", format!("The query is not valid: {e}")).into()
        }))
        .service(scope("/api/v1").configure(api::configure))
        .split_for_parts();
    doc.info.version = API_VERSION.to_owned();
    declare_path_parameters(&mut doc);
    document_problems(&mut doc);
    document_event_streams(&mut doc);
    let routes = web::Data::new(RouteTable::of(&doc));
    let doc = web::Data::new(doc);
    app.app_data(doc)
        .app_data(routes)
        .configure(crate::web::configure)
        .default_service(web::to(no_route))
        .wrap(ErrorHandlers::new().default_handler(problem_for_bare_error))
        .wrap(actix_web::middleware::from_fn(stamp))
}

/// Declares every `{name}` of every path as a required string parameter where the route did not
/// declare it itself: all path parameters are ids, a UUID or a readable key.
fn declare_path_parameters(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
    use utoipa::openapi::{Required, schema::ObjectBuilder, schema::Type};
    for (path, item) in doc.paths.paths.iter_mut() {
        let names: Vec<String> = path
            .split('/')
            .filter_map(|segment| segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(str::to_owned)
            .collect();
        let operations =
            [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch, &mut item.head];
        for operation in operations.into_iter().flatten() {
            let parameters = operation.parameters.get_or_insert_with(Vec::new);
            for name in &names {
                let declared =
                    parameters.iter().any(|p| &p.name == name && p.parameter_in == ParameterIn::Path);
                if !declared {
                    parameters.push(
                        ParameterBuilder::new()
                            .name(name)
                            .parameter_in(ParameterIn::Path)
                            .required(Required::True)
                            .description(Some("A UUID, or a readable key that stands for one"))
                            .schema(Some(
                                ObjectBuilder::new().schema_type(Type::String).max_length(Some(100)),
                            ))
                            .build(),
                    );
                }
            }
        }
    }
}

/// Documents the problems every route may answer (malformed or oversized bodies, a missing
/// session, an id in the path that is not valid, failures of the service) and serves every
/// problem as `application/problem+json`.
fn document_problems(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::security::SecurityRequirement;
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
    const PROBLEM: &str = "application/problem+json";
    let problem_ref = "#/components/schemas/Problem";
    let problem = |description: &str| {
        RefOr::T(
            ResponseBuilder::new()
                .description(description)
                .content(
                    PROBLEM,
                    ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build(),
                )
                .build(),
        )
    };
    for (path, item) in doc.paths.paths.iter_mut() {
        // Every id in a path is read before the handler runs: one that is no UUID and no
        // readable key is a 404 (`route.invalid_id`) on every route that has one.
        let has_ids = path.contains('{');
        let operations =
            [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch, &mut item.head];
        for operation in operations.into_iter().flatten() {
            for response in operation.responses.responses.values_mut() {
                if let RefOr::T(response) = response
                    && let Some(content) = response.content.shift_remove("application/json")
                {
                    let is_problem =
                        matches!(&content.schema, Some(RefOr::Ref(r)) if r.ref_location == problem_ref);
                    let key = if is_problem { PROBLEM } else { "application/json" };
                    response.content.insert(key.to_owned(), content);
                }
            }
            let public = operation
                .security
                .as_ref()
                .is_some_and(|s| s.iter().any(|r| *r == SecurityRequirement::default()));
            let has_body = operation.request_body.is_some();
            let mut common = vec![
                ("400", "The request is not well-formed"),
                ("500", "The service failed; nothing was changed"),
                ("503", "The database cannot be reached; nothing was changed"),
            ];
            if !public {
                common.push(("401", "Sign in first"));
                common.push(("403", "Not allowed for the caller"));
            }
            if has_ids {
                common.push(("404", "No such resource, or an id in the path that is not valid"));
            }
            if has_body {
                common.push(("413", "The body is too large"));
                common.push(("415", "The body is not JSON"));
            }
            for (status, description) in common {
                operation
                    .responses
                    .responses
                    .entry(status.to_owned())
                    .or_insert_with(|| problem(description));
            }
        }
    }
}

/// Documents a server-sent event stream as what a client reads from it: each event an object of
/// `event`, `data` and an optional `id`, whose `data` is the JSON of the schema the route names
/// (`contentMediaType` and `contentSchema`, JSON Schema 2020-12), not that JSON itself.
fn document_event_streams(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::extensions::Extensions;
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    const EVENT_STREAM: &str = "text/event-stream";
    for item in doc.paths.paths.values_mut() {
        let operations =
            [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch, &mut item.head];
        for operation in operations.into_iter().flatten() {
            for response in operation.responses.responses.values_mut() {
                let utoipa::openapi::RefOr::T(response) = response else { continue };
                let Some(content) = response.content.get_mut(EVENT_STREAM) else { continue };
                let Some(payload) = content.schema.take() else { continue };
                let payload = serde_json::to_value(&payload).unwrap_or_default();
                let data = ObjectBuilder::new()
                    .schema_type(Type::String)
                    .content_media_type("application/json")
                    .extensions(Some(Extensions::from_iter([("contentSchema", payload)])));
                let event = ObjectBuilder::new()
                    .schema_type(Type::Object)
                    .property("event", ObjectBuilder::new().schema_type(Type::String))
                    .property("data", data)
                    .property("id", ObjectBuilder::new().schema_type(Type::String))
                    .required("event")
                    .required("data")
                    .description(Some("One server-sent event; `data` holds the JSON of the payload"));
                content.schema = Some(event.into());
            }
        }
    }
}

/// The API's paths and the methods each answers, from the OpenAPI document: a request for a
/// path the API has, with a method it does not answer there, is told so (405, with `Allow`),
/// not that the path does not exist.
#[derive(Debug, Default)]
struct RouteTable {
    routes: Vec<(Vec<String>, Vec<&'static str>)>,
}

impl RouteTable {
    fn of(doc: &utoipa::openapi::OpenApi) -> Self {
        let routes = doc
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let segments = path.trim_start_matches('/').split('/').map(str::to_owned).collect();
                let methods = [
                    ("GET", item.get.is_some()),
                    ("PUT", item.put.is_some()),
                    ("POST", item.post.is_some()),
                    ("DELETE", item.delete.is_some()),
                    ("PATCH", item.patch.is_some()),
                ]
                .into_iter()
                .filter_map(|(m, has)| has.then_some(m))
                .collect();
                (segments, methods)
            })
            .collect();
        Self { routes }
    }

    /// The methods the API answers on `path`; empty when it has no such path.
    fn allowed(&self, path: &str) -> Vec<&'static str> {
        let wanted: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let mut methods: Vec<&'static str> = Vec::new();
        for (segments, allowed) in &self.routes {
            let matches = segments.len() == wanted.len()
                && segments.iter().zip(&wanted).all(|(pattern, segment)| {
                    (pattern.starts_with('{') && pattern.ends_with('}') && !segment.is_empty())
                        || pattern == segment
                });
            if matches {
                methods.extend(allowed.iter().filter(|m| !methods.contains(m)).collect::<Vec<_>>());
            }
        }
        methods
    }
}

/// What no route answers: 405 with the methods allowed when the API has the path, else 404.
async fn no_route(req: actix_web::HttpRequest, routes: web::Data<RouteTable>) -> HttpResponse {
    let allowed = routes.allowed(req.path());
    if allowed.is_empty() {
        return HttpResponse::NotFound().finish();
    }
    let error = ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "route.method_not_allowed",
        "Method not allowed",
        format!("{} is not allowed on {}; it answers {}.", req.method(), req.path(), allowed.join(", ")),
    );
    let mut response = actix_web::ResponseError::error_response(&error);
    if let Ok(value) = HeaderValue::from_str(&allowed.join(", ")) {
        response.headers_mut().insert(actix_web::http::header::ALLOW, value);
    }
    response
}

async fn openapi_json(doc: web::Data<utoipa::openapi::OpenApi>) -> HttpResponse {
    HttpResponse::Ok().json(doc.get_ref())
}

/// Starts serving on a listener that is already bound (port 0 in tests).
pub fn serve(listener: TcpListener, state: AppState) -> std::io::Result<Server> {
    let state = web::Data::new(state);
    let server = HttpServer::new(move || app(state.clone())).listen(listener)?.run();
    Ok(server)
}
