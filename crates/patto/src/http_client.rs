//! The one place where HTTP clients are made: the online commands', the benchmarks', and
//! the tests'. The workspace builds reqwest's rustls without a cryptography provider of
//! its own (its default, aws-lc-rs, is a large C build), and reqwest refuses to make a
//! client until the process has one: every client is made here, after ring is installed.

/// Makes ring the process's TLS cryptography provider, once; later calls change nothing.
pub fn install_crypto_provider() {
    // An error only says that a provider is installed already, which is all we need.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A reqwest client builder, with the provider installed.
pub fn builder() -> reqwest::ClientBuilder {
    install_crypto_provider();
    reqwest::Client::builder()
}
