//! Billing's page tokens: the platform's signed tokens
//! ([`jazz_platform::page_token`]) under billing's domain, so a tampered,
//! forged or foreign token (another list, filter or service) is refused
//! with INVALID_ARGUMENT naming `page_token`.

use jazz_platform::ServiceContext;
use jazz_platform::page_token::PageSigner;

/// The signer of billing's page tokens.
pub fn signer(context: &ServiceContext) -> PageSigner {
    PageSigner::new(&context.config.principal_secret, "billing")
}
