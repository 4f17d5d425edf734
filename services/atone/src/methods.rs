//! Every gRPC method the process can serve, by path, known before a request's body is
//! read: its service and name (the labels of its metrics: a path nobody serves counts as
//! `unknown`, so callers cannot make up series), whether it takes a stream of requests
//! (which has no body deadline), and what it needs of its caller.

use std::collections::HashMap;
use std::sync::OnceLock;

use atone_auth::Need;
use prost_reflect::DescriptorPool;

#[derive(Debug)]
pub struct Method {
    pub service: String,
    pub name: String,
    pub client_streaming: bool,
    /// It carries a file (a bank's result file): held to `--max-file-bytes`, not
    /// `--max-request-bytes`.
    pub carries_file: bool,
    pub need: Need,
}

/// The methods whose request carries a file.
const FILE_METHODS: [&str; 1] = ["/atone.v1.BillingService/ImportBankDebitResults"];

/// The method at `path` (`/package.Service/Method`), if the process can serve it.
pub fn lookup(path: &str) -> Option<&'static Method> {
    all().get(path)
}

fn all() -> &'static HashMap<String, Method> {
    static METHODS: OnceLock<HashMap<String, Method>> = OnceLock::new();
    METHODS.get_or_init(|| {
        load().unwrap_or_else(|e| {
            // The descriptors are compiled in: this is a broken build, and every call is
            // then refused as unknown rather than let through unchecked.
            tracing::error!(error = %e, "cannot read the served methods");
            HashMap::new()
        })
    })
}

fn load() -> Result<HashMap<String, Method>, prost_reflect::DescriptorError> {
    let mut pool = DescriptorPool::decode(atone_api::FILE_DESCRIPTOR_SET)?;
    for set in [
        tonic_health::pb::FILE_DESCRIPTOR_SET,
        tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET,
        tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET,
    ] {
        pool.decode_file_descriptor_set(set)?;
    }
    let mut methods = HashMap::new();
    for service in pool.services() {
        for method in service.methods() {
            let Some(need) = Need::of(service.full_name(), method.name()) else {
                continue;
            };
            let path = format!("/{}/{}", service.full_name(), method.name());
            methods.insert(
                path.clone(),
                Method {
                    service: service.full_name().to_owned(),
                    name: method.name().to_owned(),
                    client_streaming: method.is_client_streaming(),
                    carries_file: FILE_METHODS.contains(&path.as_str()),
                    need,
                },
            );
        }
    }
    Ok(methods)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_served_method_says_what_it_needs() {
        let mut pool = DescriptorPool::decode(atone_api::FILE_DESCRIPTOR_SET).unwrap();
        pool.decode_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .unwrap();
        let mut methods = 0;
        for service in pool.services() {
            for method in service.methods() {
                assert!(
                    Need::of(service.full_name(), method.name()).is_some(),
                    "{}/{} is missing from atone_auth::Need::of",
                    service.full_name(),
                    method.name()
                );
                assert!(lookup(&format!("/{}/{}", service.full_name(), method.name())).is_some());
                methods += 1;
            }
        }
        assert!(methods > 20, "{methods} methods");
        let reflection = lookup("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo")
            .expect("reflection");
        assert!(reflection.client_streaming);
        assert!(lookup("/atone.v1.QueryService/Made-Up").is_none());
        for path in FILE_METHODS {
            assert!(lookup(path).is_some_and(|m| m.carries_file), "{path}");
        }
    }
}
