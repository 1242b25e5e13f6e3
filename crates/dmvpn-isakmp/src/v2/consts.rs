//! IKEv2 registries (IANA "Internet Key Exchange Version 2 (IKEv2) Parameters", RFC 7296 §3).
//!
//! Every registry is an open newtype, so unknown values round-trip and print as hex.

dmvpn_wire::registry! {
    /// Payload types (RFC 7296 §3.2, RFC 7383, RFC 6467, RFC 6407 / draft-ietf-ipsecme-g-ikev2).
    pub struct PayloadType(u8) {
        /// No next payload.
        NONE = 0 => "NONE",
        /// Security Association (RFC 7296 §3.3).
        SA = 33 => "SA",
        /// Key Exchange (RFC 7296 §3.4).
        KE = 34 => "KE",
        /// Identification - Initiator (RFC 7296 §3.5).
        IDI = 35 => "IDi",
        /// Identification - Responder (RFC 7296 §3.5).
        IDR = 36 => "IDr",
        /// Certificate (RFC 7296 §3.6).
        CERT = 37 => "CERT",
        /// Certificate Request (RFC 7296 §3.7).
        CERTREQ = 38 => "CERTREQ",
        /// Authentication (RFC 7296 §3.8).
        AUTH = 39 => "AUTH",
        /// Nonce (RFC 7296 §3.9).
        NONCE = 40 => "Nonce",
        /// Notify (RFC 7296 §3.10).
        NOTIFY = 41 => "N",
        /// Delete (RFC 7296 §3.11).
        DELETE = 42 => "D",
        /// Vendor ID (RFC 7296 §3.12).
        VENDOR_ID = 43 => "V",
        /// Traffic Selector - Initiator (RFC 7296 §3.13).
        TSI = 44 => "TSi",
        /// Traffic Selector - Responder (RFC 7296 §3.13).
        TSR = 45 => "TSr",
        /// Encrypted and Authenticated (RFC 7296 §3.14).
        SK = 46 => "SK",
        /// Configuration (RFC 7296 §3.15).
        CP = 47 => "CP",
        /// Extensible Authentication (RFC 7296 §3.16).
        EAP = 48 => "EAP",
        /// Generic Secure Password Method (RFC 6467).
        GSPM = 49 => "GSPM",
        /// Group Identification (G-IKEv2).
        IDG = 50 => "IDg",
        /// Group Security Association (G-IKEv2).
        GSA = 51 => "GSA",
        /// Key Download (G-IKEv2).
        KD = 52 => "KD",
        /// Encrypted and Authenticated Fragment (RFC 7383 §2.5).
        SKF = 53 => "SKF",
        /// Puzzle Solution (RFC 8019).
        PS = 54 => "PS",
    }
}

dmvpn_wire::registry! {
    /// Exchange types (RFC 7296 §3.1, RFC 5723, RFC 9242, RFC 9370, G-IKEv2).
    pub struct ExchangeType(u8) {
        /// IKE_SA_INIT.
        IKE_SA_INIT = 34 => "IKE_SA_INIT",
        /// IKE_AUTH.
        IKE_AUTH = 35 => "IKE_AUTH",
        /// CREATE_CHILD_SA.
        CREATE_CHILD_SA = 36 => "CREATE_CHILD_SA",
        /// INFORMATIONAL.
        INFORMATIONAL = 37 => "INFORMATIONAL",
        /// IKE_SESSION_RESUME (RFC 5723).
        IKE_SESSION_RESUME = 38 => "IKE_SESSION_RESUME",
        /// GSA_AUTH (G-IKEv2).
        GSA_AUTH = 39 => "GSA_AUTH",
        /// GSA_REGISTRATION (G-IKEv2).
        GSA_REGISTRATION = 40 => "GSA_REGISTRATION",
        /// GSA_REKEY (G-IKEv2).
        GSA_REKEY = 41 => "GSA_REKEY",
        /// IKE_INTERMEDIATE (RFC 9242).
        IKE_INTERMEDIATE = 43 => "IKE_INTERMEDIATE",
        /// IKE_FOLLOWUP_KE (RFC 9370).
        IKE_FOLLOWUP_KE = 44 => "IKE_FOLLOWUP_KE",
    }
}

dmvpn_wire::registry! {
    /// Security protocol IDs of proposals, notifications and deletes (RFC 7296 §3.3.1).
    pub struct ProtocolId(u8) {
        /// None (notifications about the IKE SA carry 0 or 1).
        NONE = 0 => "NONE",
        /// IKE.
        IKE = 1 => "IKE",
        /// AH.
        AH = 2 => "AH",
        /// ESP.
        ESP = 3 => "ESP",
        /// FC_ESP_HEADER (RFC 4595).
        FC_ESP_HEADER = 4 => "FC_ESP_HEADER",
        /// FC_CT_AUTHENTICATION (RFC 4595).
        FC_CT_AUTHENTICATION = 5 => "FC_CT_AUTHENTICATION",
    }
}

dmvpn_wire::registry! {
    /// Transform types (RFC 7296 §3.3.2, RFC 9370).
    pub struct TransformType(u8) {
        /// Encryption Algorithm (ENCR).
        ENCR = 1 => "ENCR",
        /// Pseudorandom Function (PRF).
        PRF = 2 => "PRF",
        /// Integrity Algorithm (INTEG).
        INTEG = 3 => "INTEG",
        /// Key Exchange Method (D-H group).
        KE = 4 => "D-H",
        /// Extended Sequence Numbers (ESN).
        ESN = 5 => "ESN",
        /// Additional Key Exchange 1 (RFC 9370).
        ADDKE1 = 6 => "ADDKE1",
        /// Additional Key Exchange 2.
        ADDKE2 = 7 => "ADDKE2",
        /// Additional Key Exchange 3.
        ADDKE3 = 8 => "ADDKE3",
        /// Additional Key Exchange 4.
        ADDKE4 = 9 => "ADDKE4",
        /// Additional Key Exchange 5.
        ADDKE5 = 10 => "ADDKE5",
        /// Additional Key Exchange 6.
        ADDKE6 = 11 => "ADDKE6",
        /// Additional Key Exchange 7.
        ADDKE7 = 12 => "ADDKE7",
    }
}

dmvpn_wire::registry! {
    /// Encryption algorithm transform IDs (type 1; RFC 7296 §3.3.2, IANA).
    pub struct EncrId(u16) {
        /// ENCR_DES_IV64.
        DES_IV64 = 1 => "DES_IV64",
        /// ENCR_DES.
        DES = 2 => "DES",
        /// ENCR_3DES (RFC 2451).
        TRIPLE_DES = 3 => "3DES",
        /// ENCR_RC5.
        RC5 = 4 => "RC5",
        /// ENCR_IDEA.
        IDEA = 5 => "IDEA",
        /// ENCR_CAST.
        CAST = 6 => "CAST",
        /// ENCR_BLOWFISH.
        BLOWFISH = 7 => "BLOWFISH",
        /// ENCR_3IDEA.
        TRIPLE_IDEA = 8 => "3IDEA",
        /// ENCR_DES_IV32.
        DES_IV32 = 9 => "DES_IV32",
        /// ENCR_NULL (RFC 2410).
        NULL = 11 => "NULL",
        /// ENCR_AES_CBC (RFC 3602).
        AES_CBC = 12 => "AES_CBC",
        /// ENCR_AES_CTR (RFC 5930).
        AES_CTR = 13 => "AES_CTR",
        /// ENCR_AES_CCM_8 (RFC 5282).
        AES_CCM_8 = 14 => "AES_CCM_8",
        /// ENCR_AES_CCM_12 (RFC 5282).
        AES_CCM_12 = 15 => "AES_CCM_12",
        /// ENCR_AES_CCM_16 (RFC 5282).
        AES_CCM_16 = 16 => "AES_CCM_16",
        /// ENCR_AES_GCM_8 (RFC 5282).
        AES_GCM_8 = 18 => "AES_GCM_8",
        /// ENCR_AES_GCM_12 (RFC 5282).
        AES_GCM_12 = 19 => "AES_GCM_12",
        /// ENCR_AES_GCM_16 (RFC 5282).
        AES_GCM_16 = 20 => "AES_GCM_16",
        /// ENCR_NULL_AUTH_AES_GMAC (RFC 4543).
        NULL_AUTH_AES_GMAC = 21 => "NULL_AUTH_AES_GMAC",
        /// ENCR_CAMELLIA_CBC (RFC 5529).
        CAMELLIA_CBC = 23 => "CAMELLIA_CBC",
        /// ENCR_CAMELLIA_CTR (RFC 5529).
        CAMELLIA_CTR = 24 => "CAMELLIA_CTR",
        /// ENCR_CAMELLIA_CCM_8 (RFC 5529).
        CAMELLIA_CCM_8 = 25 => "CAMELLIA_CCM_8",
        /// ENCR_CAMELLIA_CCM_12 (RFC 5529).
        CAMELLIA_CCM_12 = 26 => "CAMELLIA_CCM_12",
        /// ENCR_CAMELLIA_CCM_16 (RFC 5529).
        CAMELLIA_CCM_16 = 27 => "CAMELLIA_CCM_16",
        /// ENCR_CHACHA20_POLY1305 (RFC 7634).
        CHACHA20_POLY1305 = 28 => "CHACHA20_POLY1305",
        /// ENCR_AES_CCM_8_IIV (RFC 8750).
        AES_CCM_8_IIV = 29 => "AES_CCM_8_IIV",
        /// ENCR_AES_GCM_16_IIV (RFC 8750).
        AES_GCM_16_IIV = 30 => "AES_GCM_16_IIV",
        /// ENCR_CHACHA20_POLY1305_IIV (RFC 8750).
        CHACHA20_POLY1305_IIV = 31 => "CHACHA20_POLY1305_IIV",
        /// ENCR_KUZNYECHIK_MGM_KTREE (RFC 9227).
        KUZNYECHIK_MGM_KTREE = 32 => "KUZNYECHIK_MGM_KTREE",
        /// ENCR_MAGMA_MGM_KTREE (RFC 9227).
        MAGMA_MGM_KTREE = 33 => "MAGMA_MGM_KTREE",
        /// ENCR_KUZNYECHIK_MGM_MAC_KTREE (RFC 9227).
        KUZNYECHIK_MGM_MAC_KTREE = 34 => "KUZNYECHIK_MGM_MAC_KTREE",
        /// ENCR_MAGMA_MGM_MAC_KTREE (RFC 9227).
        MAGMA_MGM_MAC_KTREE = 35 => "MAGMA_MGM_MAC_KTREE",
    }
}

dmvpn_wire::registry! {
    /// Pseudorandom function transform IDs (type 2; RFC 7296 §3.3.2, IANA).
    pub struct PrfId(u16) {
        /// PRF_HMAC_MD5 (RFC 2104).
        HMAC_MD5 = 1 => "PRF_HMAC_MD5",
        /// PRF_HMAC_SHA1 (RFC 2104).
        HMAC_SHA1 = 2 => "PRF_HMAC_SHA1",
        /// PRF_HMAC_TIGER.
        HMAC_TIGER = 3 => "PRF_HMAC_TIGER",
        /// PRF_AES128_XCBC (RFC 4434).
        AES128_XCBC = 4 => "PRF_AES128_XCBC",
        /// PRF_HMAC_SHA2_256 (RFC 4868).
        HMAC_SHA2_256 = 5 => "PRF_HMAC_SHA2_256",
        /// PRF_HMAC_SHA2_384 (RFC 4868).
        HMAC_SHA2_384 = 6 => "PRF_HMAC_SHA2_384",
        /// PRF_HMAC_SHA2_512 (RFC 4868).
        HMAC_SHA2_512 = 7 => "PRF_HMAC_SHA2_512",
        /// PRF_AES128_CMAC (RFC 4615).
        AES128_CMAC = 8 => "PRF_AES128_CMAC",
        /// PRF_HMAC_STREEBOG_512 (RFC 9385).
        HMAC_STREEBOG_512 = 9 => "PRF_HMAC_STREEBOG_512",
    }
}

dmvpn_wire::registry! {
    /// Integrity algorithm transform IDs (type 3; RFC 7296 §3.3.2, IANA).
    pub struct IntegId(u16) {
        /// NONE.
        NONE = 0 => "NONE",
        /// AUTH_HMAC_MD5_96 (RFC 2403).
        HMAC_MD5_96 = 1 => "AUTH_HMAC_MD5_96",
        /// AUTH_HMAC_SHA1_96 (RFC 2404).
        HMAC_SHA1_96 = 2 => "AUTH_HMAC_SHA1_96",
        /// AUTH_DES_MAC.
        DES_MAC = 3 => "AUTH_DES_MAC",
        /// AUTH_KPDK_MD5.
        KPDK_MD5 = 4 => "AUTH_KPDK_MD5",
        /// AUTH_AES_XCBC_96 (RFC 3566).
        AES_XCBC_96 = 5 => "AUTH_AES_XCBC_96",
        /// AUTH_HMAC_MD5_128 (RFC 4595).
        HMAC_MD5_128 = 6 => "AUTH_HMAC_MD5_128",
        /// AUTH_HMAC_SHA1_160 (RFC 4595).
        HMAC_SHA1_160 = 7 => "AUTH_HMAC_SHA1_160",
        /// AUTH_AES_CMAC_96 (RFC 4494).
        AES_CMAC_96 = 8 => "AUTH_AES_CMAC_96",
        /// AUTH_AES_128_GMAC (RFC 4543).
        AES_128_GMAC = 9 => "AUTH_AES_128_GMAC",
        /// AUTH_AES_192_GMAC (RFC 4543).
        AES_192_GMAC = 10 => "AUTH_AES_192_GMAC",
        /// AUTH_AES_256_GMAC (RFC 4543).
        AES_256_GMAC = 11 => "AUTH_AES_256_GMAC",
        /// AUTH_HMAC_SHA2_256_128 (RFC 4868).
        HMAC_SHA2_256_128 = 12 => "AUTH_HMAC_SHA2_256_128",
        /// AUTH_HMAC_SHA2_384_192 (RFC 4868).
        HMAC_SHA2_384_192 = 13 => "AUTH_HMAC_SHA2_384_192",
        /// AUTH_HMAC_SHA2_512_256 (RFC 4868).
        HMAC_SHA2_512_256 = 14 => "AUTH_HMAC_SHA2_512_256",
    }
}

dmvpn_wire::registry! {
    /// Key exchange method (Diffie-Hellman group) transform IDs (type 4; RFC 7296 §3.3.2, IANA).
    pub struct DhGroup(u16) {
        /// NONE.
        NONE = 0 => "NONE",
        /// 768-bit MODP group (RFC 2409).
        MODP_768 = 1 => "768-bit MODP",
        /// 1024-bit MODP group (RFC 2409).
        MODP_1024 = 2 => "1024-bit MODP",
        /// 1536-bit MODP group (RFC 3526).
        MODP_1536 = 5 => "1536-bit MODP",
        /// 2048-bit MODP group (RFC 3526).
        MODP_2048 = 14 => "2048-bit MODP",
        /// 3072-bit MODP group (RFC 3526).
        MODP_3072 = 15 => "3072-bit MODP",
        /// 4096-bit MODP group (RFC 3526).
        MODP_4096 = 16 => "4096-bit MODP",
        /// 6144-bit MODP group (RFC 3526).
        MODP_6144 = 17 => "6144-bit MODP",
        /// 8192-bit MODP group (RFC 3526).
        MODP_8192 = 18 => "8192-bit MODP",
        /// 256-bit random ECP group (RFC 5903).
        ECP_256 = 19 => "256-bit random ECP",
        /// 384-bit random ECP group (RFC 5903).
        ECP_384 = 20 => "384-bit random ECP",
        /// 521-bit random ECP group (RFC 5903).
        ECP_521 = 21 => "521-bit random ECP",
        /// 1024-bit MODP group with 160-bit prime order subgroup (RFC 5114).
        MODP_1024_S160 = 22 => "1024-bit MODP with 160-bit subgroup",
        /// 2048-bit MODP group with 224-bit prime order subgroup (RFC 5114).
        MODP_2048_S224 = 23 => "2048-bit MODP with 224-bit subgroup",
        /// 2048-bit MODP group with 256-bit prime order subgroup (RFC 5114).
        MODP_2048_S256 = 24 => "2048-bit MODP with 256-bit subgroup",
        /// 192-bit random ECP group (RFC 5114).
        ECP_192 = 25 => "192-bit random ECP",
        /// 224-bit random ECP group (RFC 5114).
        ECP_224 = 26 => "224-bit random ECP",
        /// brainpoolP224r1 (RFC 6954).
        BRAINPOOL_224 = 27 => "brainpoolP224r1",
        /// brainpoolP256r1 (RFC 6954).
        BRAINPOOL_256 = 28 => "brainpoolP256r1",
        /// brainpoolP384r1 (RFC 6954).
        BRAINPOOL_384 = 29 => "brainpoolP384r1",
        /// brainpoolP512r1 (RFC 6954).
        BRAINPOOL_512 = 30 => "brainpoolP512r1",
        /// Curve25519 (RFC 8031).
        CURVE25519 = 31 => "Curve25519",
        /// Curve448 (RFC 8031).
        CURVE448 = 32 => "Curve448",
        /// GOST3410_2012_256 (RFC 9385).
        GOST3410_2012_256 = 33 => "GOST3410_2012_256",
        /// GOST3410_2012_512 (RFC 9385).
        GOST3410_2012_512 = 34 => "GOST3410_2012_512",
        /// ML-KEM-512 (draft-ietf-ipsecme-ikev2-mlkem).
        ML_KEM_512 = 35 => "ML-KEM-512",
        /// ML-KEM-768.
        ML_KEM_768 = 36 => "ML-KEM-768",
        /// ML-KEM-1024.
        ML_KEM_1024 = 37 => "ML-KEM-1024",
    }
}

dmvpn_wire::registry! {
    /// Transform attribute types (RFC 7296 §3.3.5).
    pub struct AttributeType(u16) {
        /// Key Length in bits (TV format).
        KEY_LENGTH = 14 => "Key Length",
    }
}

dmvpn_wire::registry! {
    /// Identification types (RFC 7296 §3.5, RFC 4595, RFC 7619).
    pub struct IdType(u8) {
        /// ID_IPV4_ADDR.
        IPV4_ADDR = 1 => "ID_IPV4_ADDR",
        /// ID_FQDN.
        FQDN = 2 => "ID_FQDN",
        /// ID_RFC822_ADDR.
        RFC822_ADDR = 3 => "ID_RFC822_ADDR",
        /// ID_IPV6_ADDR.
        IPV6_ADDR = 5 => "ID_IPV6_ADDR",
        /// ID_DER_ASN1_DN.
        DER_ASN1_DN = 9 => "ID_DER_ASN1_DN",
        /// ID_DER_ASN1_GN.
        DER_ASN1_GN = 10 => "ID_DER_ASN1_GN",
        /// ID_KEY_ID.
        KEY_ID = 11 => "ID_KEY_ID",
        /// ID_FC_NAME (RFC 4595).
        FC_NAME = 12 => "ID_FC_NAME",
        /// ID_NULL (RFC 7619).
        NULL = 13 => "ID_NULL",
    }
}

dmvpn_wire::registry! {
    /// Certificate encodings (RFC 7296 §3.6, RFC 7670).
    pub struct CertEncoding(u8) {
        /// PKCS #7 wrapped X.509 certificate.
        PKCS7 = 1 => "PKCS #7 wrapped X.509 certificate",
        /// PGP Certificate.
        PGP = 2 => "PGP Certificate",
        /// DNS Signed Key.
        DNS_SIGNED_KEY = 3 => "DNS Signed Key",
        /// X.509 Certificate - Signature.
        X509_SIGNATURE = 4 => "X.509 Certificate - Signature",
        /// Kerberos Token.
        KERBEROS = 6 => "Kerberos Token",
        /// Certificate Revocation List (CRL).
        CRL = 7 => "Certificate Revocation List (CRL)",
        /// Authority Revocation List (ARL).
        ARL = 8 => "Authority Revocation List (ARL)",
        /// SPKI Certificate.
        SPKI = 9 => "SPKI Certificate",
        /// X.509 Certificate - Attribute.
        X509_ATTRIBUTE = 10 => "X.509 Certificate - Attribute",
        /// Raw RSA Key (deprecated).
        RAW_RSA_KEY = 11 => "Raw RSA Key",
        /// Hash and URL of X.509 certificate.
        HASH_URL_X509 = 12 => "Hash and URL of X.509 certificate",
        /// Hash and URL of X.509 bundle.
        HASH_URL_BUNDLE = 13 => "Hash and URL of X.509 bundle",
        /// OCSP Content (RFC 4806).
        OCSP = 14 => "OCSP Content",
        /// Raw Public Key (RFC 7670).
        RAW_PUBLIC_KEY = 15 => "Raw Public Key",
    }
}

dmvpn_wire::registry! {
    /// Authentication methods (RFC 7296 §3.8, RFC 4754, RFC 6467, RFC 7619, RFC 7427).
    pub struct AuthMethod(u8) {
        /// RSA Digital Signature.
        RSA_SIG = 1 => "RSA Digital Signature",
        /// Shared Key Message Integrity Code.
        SHARED_KEY = 2 => "Shared Key Message Integrity Code",
        /// DSS Digital Signature.
        DSS_SIG = 3 => "DSS Digital Signature",
        /// ECDSA with SHA-256 on the P-256 curve (RFC 4754).
        ECDSA_256 = 9 => "ECDSA with SHA-256 on the P-256 curve",
        /// ECDSA with SHA-384 on the P-384 curve (RFC 4754).
        ECDSA_384 = 10 => "ECDSA with SHA-384 on the P-384 curve",
        /// ECDSA with SHA-512 on the P-521 curve (RFC 4754).
        ECDSA_521 = 11 => "ECDSA with SHA-512 on the P-521 curve",
        /// Generic Secure Password Authentication Method (RFC 6467).
        GSPAM = 12 => "Generic Secure Password Authentication Method",
        /// NULL Authentication (RFC 7619).
        NULL = 13 => "NULL Authentication",
        /// Digital Signature (RFC 7427).
        DIGITAL_SIGNATURE = 14 => "Digital Signature",
    }
}

dmvpn_wire::registry! {
    /// Notify message types, error types below 16384 and status types from 16384 (RFC 7296 §3.10.1,
    /// IANA "IKEv2 Notify Message Types").
    pub struct NotifyType(u16) {
        /// UNSUPPORTED_CRITICAL_PAYLOAD.
        UNSUPPORTED_CRITICAL_PAYLOAD = 1 => "UNSUPPORTED_CRITICAL_PAYLOAD",
        /// INVALID_IKE_SPI.
        INVALID_IKE_SPI = 4 => "INVALID_IKE_SPI",
        /// INVALID_MAJOR_VERSION.
        INVALID_MAJOR_VERSION = 5 => "INVALID_MAJOR_VERSION",
        /// INVALID_SYNTAX.
        INVALID_SYNTAX = 7 => "INVALID_SYNTAX",
        /// INVALID_MESSAGE_ID.
        INVALID_MESSAGE_ID = 9 => "INVALID_MESSAGE_ID",
        /// INVALID_SPI.
        INVALID_SPI = 11 => "INVALID_SPI",
        /// NO_PROPOSAL_CHOSEN.
        NO_PROPOSAL_CHOSEN = 14 => "NO_PROPOSAL_CHOSEN",
        /// INVALID_KE_PAYLOAD.
        INVALID_KE_PAYLOAD = 17 => "INVALID_KE_PAYLOAD",
        /// AUTHENTICATION_FAILED.
        AUTHENTICATION_FAILED = 24 => "AUTHENTICATION_FAILED",
        /// SINGLE_PAIR_REQUIRED.
        SINGLE_PAIR_REQUIRED = 34 => "SINGLE_PAIR_REQUIRED",
        /// NO_ADDITIONAL_SAS.
        NO_ADDITIONAL_SAS = 35 => "NO_ADDITIONAL_SAS",
        /// INTERNAL_ADDRESS_FAILURE.
        INTERNAL_ADDRESS_FAILURE = 36 => "INTERNAL_ADDRESS_FAILURE",
        /// FAILED_CP_REQUIRED.
        FAILED_CP_REQUIRED = 37 => "FAILED_CP_REQUIRED",
        /// TS_UNACCEPTABLE.
        TS_UNACCEPTABLE = 38 => "TS_UNACCEPTABLE",
        /// INVALID_SELECTORS.
        INVALID_SELECTORS = 39 => "INVALID_SELECTORS",
        /// UNACCEPTABLE_ADDRESSES (RFC 4555).
        UNACCEPTABLE_ADDRESSES = 40 => "UNACCEPTABLE_ADDRESSES",
        /// UNEXPECTED_NAT_DETECTED (RFC 4555).
        UNEXPECTED_NAT_DETECTED = 41 => "UNEXPECTED_NAT_DETECTED",
        /// USE_ASSIGNED_HoA (RFC 5026).
        USE_ASSIGNED_HOA = 42 => "USE_ASSIGNED_HoA",
        /// TEMPORARY_FAILURE.
        TEMPORARY_FAILURE = 43 => "TEMPORARY_FAILURE",
        /// CHILD_SA_NOT_FOUND.
        CHILD_SA_NOT_FOUND = 44 => "CHILD_SA_NOT_FOUND",
        /// INVALID_GROUP_ID (G-IKEv2).
        INVALID_GROUP_ID = 45 => "INVALID_GROUP_ID",
        /// AUTHORIZATION_FAILED (G-IKEv2).
        AUTHORIZATION_FAILED = 46 => "AUTHORIZATION_FAILED",
        /// STATE_NOT_FOUND (RFC 9370).
        STATE_NOT_FOUND = 47 => "STATE_NOT_FOUND",
        /// TS_MAX_QUEUE (RFC 9611).
        TS_MAX_QUEUE = 48 => "TS_MAX_QUEUE",
        /// INITIAL_CONTACT.
        INITIAL_CONTACT = 16384 => "INITIAL_CONTACT",
        /// SET_WINDOW_SIZE.
        SET_WINDOW_SIZE = 16385 => "SET_WINDOW_SIZE",
        /// ADDITIONAL_TS_POSSIBLE.
        ADDITIONAL_TS_POSSIBLE = 16386 => "ADDITIONAL_TS_POSSIBLE",
        /// IPCOMP_SUPPORTED.
        IPCOMP_SUPPORTED = 16387 => "IPCOMP_SUPPORTED",
        /// NAT_DETECTION_SOURCE_IP.
        NAT_DETECTION_SOURCE_IP = 16388 => "NAT_DETECTION_SOURCE_IP",
        /// NAT_DETECTION_DESTINATION_IP.
        NAT_DETECTION_DESTINATION_IP = 16389 => "NAT_DETECTION_DESTINATION_IP",
        /// COOKIE.
        COOKIE = 16390 => "COOKIE",
        /// USE_TRANSPORT_MODE.
        USE_TRANSPORT_MODE = 16391 => "USE_TRANSPORT_MODE",
        /// HTTP_CERT_LOOKUP_SUPPORTED.
        HTTP_CERT_LOOKUP_SUPPORTED = 16392 => "HTTP_CERT_LOOKUP_SUPPORTED",
        /// REKEY_SA.
        REKEY_SA = 16393 => "REKEY_SA",
        /// ESP_TFC_PADDING_NOT_SUPPORTED.
        ESP_TFC_PADDING_NOT_SUPPORTED = 16394 => "ESP_TFC_PADDING_NOT_SUPPORTED",
        /// NON_FIRST_FRAGMENTS_ALSO.
        NON_FIRST_FRAGMENTS_ALSO = 16395 => "NON_FIRST_FRAGMENTS_ALSO",
        /// MOBIKE_SUPPORTED (RFC 4555).
        MOBIKE_SUPPORTED = 16396 => "MOBIKE_SUPPORTED",
        /// ADDITIONAL_IP4_ADDRESS (RFC 4555).
        ADDITIONAL_IP4_ADDRESS = 16397 => "ADDITIONAL_IP4_ADDRESS",
        /// ADDITIONAL_IP6_ADDRESS (RFC 4555).
        ADDITIONAL_IP6_ADDRESS = 16398 => "ADDITIONAL_IP6_ADDRESS",
        /// NO_ADDITIONAL_ADDRESSES (RFC 4555).
        NO_ADDITIONAL_ADDRESSES = 16399 => "NO_ADDITIONAL_ADDRESSES",
        /// UPDATE_SA_ADDRESSES (RFC 4555).
        UPDATE_SA_ADDRESSES = 16400 => "UPDATE_SA_ADDRESSES",
        /// COOKIE2 (RFC 4555).
        COOKIE2 = 16401 => "COOKIE2",
        /// NO_NATS_ALLOWED (RFC 4555).
        NO_NATS_ALLOWED = 16402 => "NO_NATS_ALLOWED",
        /// AUTH_LIFETIME (RFC 4478).
        AUTH_LIFETIME = 16403 => "AUTH_LIFETIME",
        /// MULTIPLE_AUTH_SUPPORTED (RFC 4739).
        MULTIPLE_AUTH_SUPPORTED = 16404 => "MULTIPLE_AUTH_SUPPORTED",
        /// ANOTHER_AUTH_FOLLOWS (RFC 4739).
        ANOTHER_AUTH_FOLLOWS = 16405 => "ANOTHER_AUTH_FOLLOWS",
        /// REDIRECT_SUPPORTED (RFC 5685).
        REDIRECT_SUPPORTED = 16406 => "REDIRECT_SUPPORTED",
        /// REDIRECT (RFC 5685).
        REDIRECT = 16407 => "REDIRECT",
        /// REDIRECTED_FROM (RFC 5685).
        REDIRECTED_FROM = 16408 => "REDIRECTED_FROM",
        /// TICKET_LT_OPAQUE (RFC 5723).
        TICKET_LT_OPAQUE = 16409 => "TICKET_LT_OPAQUE",
        /// TICKET_REQUEST (RFC 5723).
        TICKET_REQUEST = 16410 => "TICKET_REQUEST",
        /// TICKET_ACK (RFC 5723).
        TICKET_ACK = 16411 => "TICKET_ACK",
        /// TICKET_NACK (RFC 5723).
        TICKET_NACK = 16412 => "TICKET_NACK",
        /// TICKET_OPAQUE (RFC 5723).
        TICKET_OPAQUE = 16413 => "TICKET_OPAQUE",
        /// LINK_ID (RFC 5739).
        LINK_ID = 16414 => "LINK_ID",
        /// USE_WESP_MODE (RFC 5840).
        USE_WESP_MODE = 16415 => "USE_WESP_MODE",
        /// ROHC_SUPPORTED (RFC 5857).
        ROHC_SUPPORTED = 16416 => "ROHC_SUPPORTED",
        /// EAP_ONLY_AUTHENTICATION (RFC 5998).
        EAP_ONLY_AUTHENTICATION = 16417 => "EAP_ONLY_AUTHENTICATION",
        /// CHILDLESS_IKEV2_SUPPORTED (RFC 6023).
        CHILDLESS_IKEV2_SUPPORTED = 16418 => "CHILDLESS_IKEV2_SUPPORTED",
        /// QUICK_CRASH_DETECTION (RFC 6290).
        QUICK_CRASH_DETECTION = 16419 => "QUICK_CRASH_DETECTION",
        /// IKEV2_MESSAGE_ID_SYNC_SUPPORTED (RFC 6311).
        IKEV2_MESSAGE_ID_SYNC_SUPPORTED = 16420 => "IKEV2_MESSAGE_ID_SYNC_SUPPORTED",
        /// IPSEC_REPLAY_COUNTER_SYNC_SUPPORTED (RFC 6311).
        IPSEC_REPLAY_COUNTER_SYNC_SUPPORTED = 16421 => "IPSEC_REPLAY_COUNTER_SYNC_SUPPORTED",
        /// IKEV2_MESSAGE_ID_SYNC (RFC 6311).
        IKEV2_MESSAGE_ID_SYNC = 16422 => "IKEV2_MESSAGE_ID_SYNC",
        /// IPSEC_REPLAY_COUNTER_SYNC (RFC 6311).
        IPSEC_REPLAY_COUNTER_SYNC = 16423 => "IPSEC_REPLAY_COUNTER_SYNC",
        /// SECURE_PASSWORD_METHODS (RFC 6467).
        SECURE_PASSWORD_METHODS = 16424 => "SECURE_PASSWORD_METHODS",
        /// PSK_PERSIST (RFC 6631).
        PSK_PERSIST = 16425 => "PSK_PERSIST",
        /// PSK_CONFIRM (RFC 6631).
        PSK_CONFIRM = 16426 => "PSK_CONFIRM",
        /// ERX_SUPPORTED (RFC 6867).
        ERX_SUPPORTED = 16427 => "ERX_SUPPORTED",
        /// IFOM_CAPABILITY (3GPP TS 24.303).
        IFOM_CAPABILITY = 16428 => "IFOM_CAPABILITY",
        /// SENDER_REQUEST_ID (G-IKEv2).
        SENDER_REQUEST_ID = 16429 => "SENDER_REQUEST_ID",
        /// IKEV2_FRAGMENTATION_SUPPORTED (RFC 7383).
        IKEV2_FRAGMENTATION_SUPPORTED = 16430 => "IKEV2_FRAGMENTATION_SUPPORTED",
        /// SIGNATURE_HASH_ALGORITHMS (RFC 7427).
        SIGNATURE_HASH_ALGORITHMS = 16431 => "SIGNATURE_HASH_ALGORITHMS",
        /// CLONE_IKE_SA_SUPPORTED (RFC 7791).
        CLONE_IKE_SA_SUPPORTED = 16432 => "CLONE_IKE_SA_SUPPORTED",
        /// CLONE_IKE_SA (RFC 7791).
        CLONE_IKE_SA = 16433 => "CLONE_IKE_SA",
        /// PUZZLE (RFC 8019).
        PUZZLE = 16434 => "PUZZLE",
        /// USE_PPK (RFC 8784).
        USE_PPK = 16435 => "USE_PPK",
        /// PPK_IDENTITY (RFC 8784).
        PPK_IDENTITY = 16436 => "PPK_IDENTITY",
        /// NO_PPK_AUTH (RFC 8784).
        NO_PPK_AUTH = 16437 => "NO_PPK_AUTH",
        /// INTERMEDIATE_EXCHANGE_SUPPORTED (RFC 9242).
        INTERMEDIATE_EXCHANGE_SUPPORTED = 16438 => "INTERMEDIATE_EXCHANGE_SUPPORTED",
        /// IP4_ALLOWED (RFC 8983).
        IP4_ALLOWED = 16439 => "IP4_ALLOWED",
        /// IP6_ALLOWED (RFC 8983).
        IP6_ALLOWED = 16440 => "IP6_ALLOWED",
        /// ADDITIONAL_KEY_EXCHANGE (RFC 9370).
        ADDITIONAL_KEY_EXCHANGE = 16441 => "ADDITIONAL_KEY_EXCHANGE",
        /// USE_AGGFRAG (RFC 9347).
        USE_AGGFRAG = 16442 => "USE_AGGFRAG",
        /// SUPPORTED_AUTH_METHODS (RFC 9593).
        SUPPORTED_AUTH_METHODS = 16443 => "SUPPORTED_AUTH_METHODS",
        /// SA_RESOURCE_INFO (RFC 9611).
        SA_RESOURCE_INFO = 16444 => "SA_RESOURCE_INFO",
        /// USE_PPK_INT (RFC 9867).
        USE_PPK_INT = 16445 => "USE_PPK_INT",
        /// PPK_IDENTITY_KEY (RFC 9867).
        PPK_IDENTITY_KEY = 16446 => "PPK_IDENTITY_KEY",
    }
}

impl NotifyType {
    /// Whether this is an error type (RFC 7296 §3.10.1: 0–16383).
    #[must_use]
    pub const fn is_error(self) -> bool {
        self.0 < 16384
    }
}

dmvpn_wire::registry! {
    /// Traffic selector types (RFC 7296 §3.13.1, RFC 4595, RFC 9478).
    pub struct TsType(u8) {
        /// TS_IPV4_ADDR_RANGE.
        IPV4_ADDR_RANGE = 7 => "TS_IPV4_ADDR_RANGE",
        /// TS_IPV6_ADDR_RANGE.
        IPV6_ADDR_RANGE = 8 => "TS_IPV6_ADDR_RANGE",
        /// TS_FC_ADDR_RANGE (RFC 4595).
        FC_ADDR_RANGE = 9 => "TS_FC_ADDR_RANGE",
        /// TS_SECLABEL (RFC 9478).
        SECLABEL = 10 => "TS_SECLABEL",
    }
}

/// Configuration payload types (RFC 7296 §3.15): IKEv1 mode-config's registry, kept as it was.
pub use crate::consts::CfgType;

dmvpn_wire::registry! {
    /// Configuration attribute types (RFC 7296 §3.15.1, IANA).
    pub struct CfgAttribute(u16) {
        /// INTERNAL_IP4_ADDRESS.
        INTERNAL_IP4_ADDRESS = 1 => "INTERNAL_IP4_ADDRESS",
        /// INTERNAL_IP4_NETMASK.
        INTERNAL_IP4_NETMASK = 2 => "INTERNAL_IP4_NETMASK",
        /// INTERNAL_IP4_DNS.
        INTERNAL_IP4_DNS = 3 => "INTERNAL_IP4_DNS",
        /// INTERNAL_IP4_NBNS.
        INTERNAL_IP4_NBNS = 4 => "INTERNAL_IP4_NBNS",
        /// INTERNAL_IP4_DHCP.
        INTERNAL_IP4_DHCP = 6 => "INTERNAL_IP4_DHCP",
        /// APPLICATION_VERSION.
        APPLICATION_VERSION = 7 => "APPLICATION_VERSION",
        /// INTERNAL_IP6_ADDRESS.
        INTERNAL_IP6_ADDRESS = 8 => "INTERNAL_IP6_ADDRESS",
        /// INTERNAL_IP6_DNS.
        INTERNAL_IP6_DNS = 10 => "INTERNAL_IP6_DNS",
        /// INTERNAL_IP6_DHCP.
        INTERNAL_IP6_DHCP = 12 => "INTERNAL_IP6_DHCP",
        /// INTERNAL_IP4_SUBNET.
        INTERNAL_IP4_SUBNET = 13 => "INTERNAL_IP4_SUBNET",
        /// SUPPORTED_ATTRIBUTES.
        SUPPORTED_ATTRIBUTES = 14 => "SUPPORTED_ATTRIBUTES",
        /// INTERNAL_IP6_SUBNET.
        INTERNAL_IP6_SUBNET = 15 => "INTERNAL_IP6_SUBNET",
        /// MIP6_HOME_PREFIX (RFC 5026).
        MIP6_HOME_PREFIX = 16 => "MIP6_HOME_PREFIX",
        /// INTERNAL_IP6_LINK (RFC 5739).
        INTERNAL_IP6_LINK = 17 => "INTERNAL_IP6_LINK",
        /// INTERNAL_IP6_PREFIX (RFC 5739).
        INTERNAL_IP6_PREFIX = 18 => "INTERNAL_IP6_PREFIX",
        /// HOME_AGENT_ADDRESS.
        HOME_AGENT_ADDRESS = 19 => "HOME_AGENT_ADDRESS",
        /// P_CSCF_IP4_ADDRESS (RFC 7651).
        P_CSCF_IP4_ADDRESS = 20 => "P_CSCF_IP4_ADDRESS",
        /// P_CSCF_IP6_ADDRESS (RFC 7651).
        P_CSCF_IP6_ADDRESS = 21 => "P_CSCF_IP6_ADDRESS",
        /// FTT_KAT.
        FTT_KAT = 22 => "FTT_KAT",
        /// EXTERNAL_SOURCE_IP4_NAT_INFO.
        EXTERNAL_SOURCE_IP4_NAT_INFO = 23 => "EXTERNAL_SOURCE_IP4_NAT_INFO",
        /// TIMEOUT_PERIOD_FOR_LIVENESS_CHECK.
        TIMEOUT_PERIOD_FOR_LIVENESS_CHECK = 24 => "TIMEOUT_PERIOD_FOR_LIVENESS_CHECK",
        /// INTERNAL_DNS_DOMAIN (RFC 8598).
        INTERNAL_DNS_DOMAIN = 25 => "INTERNAL_DNS_DOMAIN",
        /// INTERNAL_DNSSEC_TA (RFC 8598).
        INTERNAL_DNSSEC_TA = 26 => "INTERNAL_DNSSEC_TA",
    }
}

dmvpn_wire::registry! {
    /// EAP codes (RFC 3748 §4).
    pub struct EapCode(u8) {
        /// Request.
        REQUEST = 1 => "Request",
        /// Response.
        RESPONSE = 2 => "Response",
        /// Success.
        SUCCESS = 3 => "Success",
        /// Failure.
        FAILURE = 4 => "Failure",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_unknowns() {
        assert_eq!(PayloadType::SK.to_string(), "SK (46)");
        assert_eq!(ExchangeType(42).to_string(), "0x2a");
        assert_eq!(
            NotifyType::NO_PROPOSAL_CHOSEN.name(),
            Some("NO_PROPOSAL_CHOSEN")
        );
        assert!(NotifyType::AUTHENTICATION_FAILED.is_error());
        assert!(!NotifyType::INITIAL_CONTACT.is_error());
        assert_eq!(EncrId::AES_GCM_16.0, 20);
        assert_eq!(IntegId::HMAC_SHA2_512_256.0, 14);
        assert_eq!(DhGroup::CURVE25519.0, 31);
    }
}
