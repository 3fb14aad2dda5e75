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

#[cfg(test)]
mod tests {
    use super::*;

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
