//! One port for everything: gRPC, gRPC-Web, reflection (v1 and v1alpha), health and, with
//! QueryService, the browser page.

use tonic::service::{Routes, RoutesBuilder};

/// Reflection and health, the services every process has.
pub fn base(
    health: tonic_health::pb::health_server::HealthServer<
        impl tonic_health::pb::health_server::Health,
    >,
) -> anyhow::Result<RoutesBuilder> {
    let mut routes = RoutesBuilder::default();
    routes
        .add_service(health)
        .add_service(reflection().build_v1()?)
        .add_service(reflection().build_v1alpha()?);
    Ok(routes)
}

/// The gRPC services with gRPC-Web and JSON over HTTP in front, the plain HTTP routes
/// (`http`: the webhook), the page (with `page`), and a fallback that answers what nothing
/// else does.
pub fn finish(
    routes: RoutesBuilder,
    http: axum::Router,
    page: Option<crate::web::Page>,
) -> anyhow::Result<Routes> {
    // gRPC-Web on the gRPC routes only: tonic-web refuses any other HTTP/1.1 request. JSON
    // outermost, so a JSON call is counted and checked as the gRPC call it becomes.
    let json = crate::json::Gateway::new()?;
    let mut router = routes
        .routes()
        .into_axum_router()
        .layer(tonic_web::GrpcWebLayer::new())
        .layer(axum::middleware::from_fn(crate::metrics::record_rpc))
        .layer(axum::middleware::from_fn_with_state(
            json,
            crate::json::connect_json,
        ))
        .merge(http);
    if let Some(page) = page {
        router = router.merge(crate::web::router(page));
    }
    let router = router
        .fallback(crate::web::not_found)
        .layer(axum::middleware::from_fn(crate::telemetry::trace_request));
    Ok(Routes::from(router))
}

/// Server reflection over every proto the process serves, and `google.rpc`'s error details
/// (so a client that resolves types by reflection, grpcurl among them, can read which field
/// a validation error names). grpcurl 1.8 speaks only v1alpha, newer clients v1; each lists
/// both.
fn reflection() -> tonic_reflection::server::Builder<'static> {
    tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(atone_api::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET)
}
