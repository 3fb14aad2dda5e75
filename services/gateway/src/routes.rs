//! Which services the gateway exposes, and the descriptors it reflects.
//!
//! This list is the one place that says what the outside may call: every
//! other path (the `…InternalService`s and `…AdminService`s, anything
//! unknown) answers UNIMPLEMENTED, exactly like a method that does not exist.

use prost::Message as _;

/// The backend a public service lives on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The identity service.
    Identity,
    /// The billing service.
    Billing,
    /// The content service.
    Content,
    /// The progress service.
    Progress,
}

/// Every public service of the contract and its backend.
pub const PUBLIC_SERVICES: &[(&str, Backend)] = &[
    ("jazz.identity.v1.AuthService", Backend::Identity),
    ("jazz.identity.v1.UserService", Backend::Identity),
    ("jazz.identity.v1.FeatureFlagService", Backend::Identity),
    ("jazz.billing.v1.BillingService", Backend::Billing),
    ("jazz.content.v1.ContentService", Backend::Content),
    ("jazz.progress.v1.PracticeService", Backend::Progress),
    ("jazz.progress.v1.ProgressService", Backend::Progress),
];

/// Whether a proto file holds only what the public may see. Internal and
/// admin services live in files named `*_internal.proto` / `*_admin.proto`.
pub fn is_public_file(name: &str) -> bool {
    !(name.ends_with("_internal.proto") || name.ends_with("_admin.proto"))
}

/// The contract's descriptor set without the internal and admin files, so
/// reflection on the gateway cannot even describe what it refuses.
pub fn public_descriptor_set() -> Result<Vec<u8>, prost::DecodeError> {
    let mut set = prost_types::FileDescriptorSet::decode(jazz_contract::FILE_DESCRIPTOR_SET)?;
    set.file.retain(|file| file.name.as_deref().is_some_and(is_public_file));
    Ok(set.encode_to_vec())
}

/// The contract's `jazz.common.v1.access` option of every method, read from
/// the descriptor set once: the one source of which methods need no session
/// and which the gateway limits as credential attempts. prost keeps only
/// the fields a message declares, so these mirrors of the descriptor
/// messages declare the option's field (50100) on `MethodOptions`.
pub mod access {
    use std::collections::HashMap;
    use std::sync::LazyLock;

    use jazz_contract::jazz::common::v1::MethodAccess;
    use prost::Message as _;

    #[derive(Clone, PartialEq, prost::Message)]
    struct FileSet {
        #[prost(message, repeated, tag = "1")]
        file: Vec<File>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    struct File {
        #[prost(string, tag = "2")]
        package: String,
        #[prost(message, repeated, tag = "6")]
        service: Vec<Service>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    struct Service {
        #[prost(string, tag = "1")]
        name: String,
        #[prost(message, repeated, tag = "2")]
        method: Vec<Method>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    struct Method {
        #[prost(string, tag = "1")]
        name: String,
        #[prost(message, optional, tag = "4")]
        options: Option<Options>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    struct Options {
        #[prost(enumeration = "MethodAccess", tag = "50100")]
        access: i32,
    }

    /// `/package.Service/Method` → its declared access, for every method
    /// that declares one.
    static DECLARED: LazyLock<HashMap<String, MethodAccess>> = LazyLock::new(|| {
        let set = FileSet::decode(jazz_contract::FILE_DESCRIPTOR_SET).unwrap_or_default();
        let mut declared = HashMap::new();
        for file in set.file {
            for service in file.service {
                for method in service.method {
                    let access = method.options.map_or(0, |o| o.access);
                    let access = MethodAccess::try_from(access).unwrap_or(MethodAccess::Unspecified);
                    if access != MethodAccess::Unspecified {
                        declared.insert(format!("/{}.{}/{}", file.package, service.name, method.name), access);
                    }
                }
            }
        }
        declared
    });

    /// What the contract declares for `path` (UNSPECIFIED: a session is needed).
    pub fn of(path: &str) -> MethodAccess {
        DECLARED.get(path).copied().unwrap_or(MethodAccess::Unspecified)
    }

    /// Whether `path` may be called without a session.
    pub fn anonymous(path: &str) -> bool {
        of(path) != MethodAccess::Unspecified
    }

    /// Whether `path` tries credentials or creates accounts.
    pub fn credential(path: &str) -> bool {
        of(path) == MethodAccess::Credential
    }

    /// Every method that declares an access, sorted.
    pub fn declared() -> Vec<(String, MethodAccess)> {
        let mut all: Vec<(String, MethodAccess)> = DECLARED.iter().map(|(p, a)| (p.clone(), *a)).collect();
        all.sort();
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The contract's declarations, as the gateway reads them: anonymous
    /// and credential methods all in public services, and the ones the app
    /// relies on present.
    #[test]
    fn access_comes_from_the_contracts_method_options() {
        use jazz_contract::jazz::common::v1::MethodAccess;
        let declared = access::declared();
        assert!(declared.len() >= 11, "{declared:?}");
        for (path, _) in &declared {
            let service = path.trim_start_matches('/').split('/').next().unwrap_or_default();
            assert!(PUBLIC_SERVICES.iter().any(|(name, _)| *name == service), "{path} is not public");
        }
        assert_eq!(access::of("/jazz.identity.v1.AuthService/SignIn"), MethodAccess::Credential);
        assert_eq!(access::of("/jazz.billing.v1.BillingService/ListPlans"), MethodAccess::Anonymous);
        assert!(access::anonymous("/jazz.content.v1.ContentService/ListPublicContent"));
        assert!(!access::anonymous("/jazz.identity.v1.UserService/GetMe"));
        assert!(!access::anonymous("/jazz.content.v1.ContentService/GenerateContent"));
        assert!(access::credential("/jazz.identity.v1.UserService/UndeleteMe"));
        assert!(!access::credential("/jazz.billing.v1.BillingService/ListPlans"));
    }

    /// The list above and the contract's public files name the same
    /// services: a new public service cannot be forgotten, nor an internal
    /// one exposed.
    #[test]
    fn the_public_list_matches_the_contract() {
        let set = prost_types::FileDescriptorSet::decode(jazz_contract::FILE_DESCRIPTOR_SET).ok();
        let mut from_contract: Vec<String> = set
            .into_iter()
            .flat_map(|set| set.file)
            .filter(|file| file.name.as_deref().is_some_and(is_public_file))
            .flat_map(|file| {
                let package = file.package.clone().unwrap_or_default();
                file.service.into_iter().map(move |s| format!("{package}.{}", s.name.unwrap_or_default()))
            })
            .collect();
        from_contract.sort();
        let mut listed: Vec<String> = PUBLIC_SERVICES.iter().map(|(name, _)| (*name).to_owned()).collect();
        listed.sort();
        assert_eq!(listed, from_contract);
        assert!(listed.iter().all(|name| !name.contains("Internal") && !name.contains("Admin")));
    }
}
