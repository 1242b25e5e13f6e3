//! ISAKMP / IKEv1 registries: payload, exchange, DOI, protocol, transform, attribute, ID, notify and
//! certificate values (RFC 2408, RFC 2407, RFC 2409 Appendix A, RFC 3947, IANA "ISAKMP" and
//! "IPsec DOI" registries, and the mode-config and XAUTH drafts).
//!
//! Every registry is an open newtype, so unknown values round-trip and print as hex.

dmvpn_wire::registry! {
    /// Next-payload / payload types (RFC 2408 §3.1, RFC 3947 §3.2/§5.2, IANA).
    pub struct PayloadType(u8) {
        /// No next payload (end of chain).
        NONE = 0 => "NONE",
        /// Security Association (RFC 2408 §3.4).
        SA = 1 => "SA",
        /// Proposal (RFC 2408 §3.5).
        PROPOSAL = 2 => "P",
        /// Transform (RFC 2408 §3.6).
        TRANSFORM = 3 => "T",
        /// Key Exchange (RFC 2408 §3.7).
        KE = 4 => "KE",
        /// Identification (RFC 2408 §3.8).
        ID = 5 => "ID",
        /// Certificate (RFC 2408 §3.9).
        CERT = 6 => "CERT",
        /// Certificate Request (RFC 2408 §3.10).
        CR = 7 => "CR",
        /// Hash (RFC 2408 §3.11).
        HASH = 8 => "HASH",
        /// Signature (RFC 2408 §3.12).
        SIG = 9 => "SIG",
        /// Nonce (RFC 2408 §3.13).
        NONCE = 10 => "NONCE",
        /// Notification (RFC 2408 §3.14).
        NOTIFY = 11 => "N",
        /// Delete (RFC 2408 §3.15).
        DELETE = 12 => "D",
        /// Vendor ID (RFC 2408 §3.16).
        VENDOR_ID = 13 => "VID",
        /// Mode-config / XAUTH attributes (draft-dukes-ike-mode-cfg §3.2).
        ATTRIBUTES = 14 => "ATTR",
        /// GDOI SA KEK (RFC 6407); NAT-D in NAT-T drafts 02/03 (see [`crate::payload::Context`]).
        SAK = 15 => "SAK",
        /// GDOI SA TEK (RFC 6407); NAT-OA in NAT-T drafts 02/03.
        SAT = 16 => "SAT",
        /// GDOI Key Download (RFC 6407).
        KD = 17 => "KD",
        /// GDOI Sequence Number (RFC 6407).
        SEQ = 18 => "SEQ",
        /// GDOI Proof of Possession (RFC 6407).
        POP = 19 => "POP",
        /// NAT Discovery (RFC 3947 §3.2).
        NAT_D = 20 => "NAT-D",
        /// NAT Original Address (RFC 3947 §5.2).
        NAT_OA = 21 => "NAT-OA",
        /// GDOI Group Associated Policy (RFC 6407).
        GAP = 22 => "GAP",
        /// NAT Discovery, draft-ietf-ipsec-nat-t-ike-04..08 private value.
        NAT_D_DRAFT = 130 => "NAT-D (draft)",
        /// NAT Original Address, draft-ietf-ipsec-nat-t-ike-04..08 private value.
        NAT_OA_DRAFT = 131 => "NAT-OA (draft)",
        /// Cisco IKE fragmentation (private use).
        FRAGMENT = 132 => "FRAG",
    }
}

dmvpn_wire::registry! {
    /// Exchange types (RFC 2408 §3.1, RFC 2409 §5, IANA).
    pub struct ExchangeType(u8) {
        /// None.
        NONE = 0 => "None",
        /// Base (RFC 2408 §4.4).
        BASE = 1 => "Base",
        /// Identity Protection, i.e. Main Mode (RFC 2408 §4.5, RFC 2409 §5).
        MAIN = 2 => "Main Mode",
        /// Authentication Only (RFC 2408 §4.6).
        AUTH_ONLY = 3 => "Authentication Only",
        /// Aggressive Mode (RFC 2408 §4.7, RFC 2409 §5).
        AGGRESSIVE = 4 => "Aggressive Mode",
        /// Informational (RFC 2408 §4.8, RFC 2409 §5.7).
        INFORMATIONAL = 5 => "Informational",
        /// Transaction, i.e. mode config / XAUTH (draft-dukes-ike-mode-cfg).
        TRANSACTION = 6 => "Transaction (Config Mode)",
        /// Quick Mode (RFC 2409 §5.5).
        QUICK = 32 => "Quick Mode",
        /// New Group Mode (RFC 2409 §5.6).
        NEW_GROUP = 33 => "New Group Mode",
    }
}

dmvpn_wire::registry! {
    /// Domains of interpretation (RFC 2408 §3.4, IANA).
    pub struct Doi(u32) {
        /// ISAKMP (generic).
        ISAKMP = 0 => "ISAKMP",
        /// IPsec DOI (RFC 2407).
        IPSEC = 1 => "IPsec",
        /// GDOI (RFC 6407).
        GDOI = 2 => "GDOI",
    }
}

/// Situation bits of the IPsec DOI (RFC 2407 §4.2).
pub mod situation {
    /// SIT_IDENTITY_ONLY.
    pub const IDENTITY_ONLY: u32 = 0x01;
    /// SIT_SECRECY: a labeled domain identifier and secrecy levels follow.
    pub const SECRECY: u32 = 0x02;
    /// SIT_INTEGRITY: a labeled domain identifier and integrity levels follow.
    pub const INTEGRITY: u32 = 0x04;
}

dmvpn_wire::registry! {
    /// Protocol IDs of proposals, notifications and deletes (RFC 2407 §4.4.1).
    pub struct ProtocolId(u8) {
        /// Reserved (also "ISAKMP" in some notifications).
        RESERVED = 0 => "RESERVED",
        /// PROTO_ISAKMP.
        ISAKMP = 1 => "ISAKMP",
        /// PROTO_IPSEC_AH.
        AH = 2 => "AH",
        /// PROTO_IPSEC_ESP.
        ESP = 3 => "ESP",
        /// PROTO_IPCOMP.
        IPCOMP = 4 => "IPCOMP",
    }
}

dmvpn_wire::registry! {
    /// Transform IDs of a PROTO_ISAKMP proposal (RFC 2407 §4.4.2).
    pub struct IsakmpTransformId(u8) {
        /// KEY_IKE.
        KEY_IKE = 1 => "KEY_IKE",
    }
}

dmvpn_wire::registry! {
    /// AH transform IDs (RFC 2407 §4.4.3, IANA).
    pub struct AhTransformId(u8) {
        /// AH_MD5.
        MD5 = 2 => "AH_MD5",
        /// AH_SHA.
        SHA = 3 => "AH_SHA",
        /// AH_DES.
        DES = 4 => "AH_DES",
        /// AH_SHA2-256.
        SHA2_256 = 5 => "AH_SHA2-256",
        /// AH_SHA2-384.
        SHA2_384 = 6 => "AH_SHA2-384",
        /// AH_SHA2-512.
        SHA2_512 = 7 => "AH_SHA2-512",
        /// AH_RIPEMD.
        RIPEMD = 8 => "AH_RIPEMD",
        /// AH_AES-XCBC-MAC.
        AES_XCBC_MAC = 9 => "AH_AES-XCBC-MAC",
        /// AH_RSA.
        RSA = 10 => "AH_RSA",
        /// AH_AES-128-GMAC.
        AES_128_GMAC = 11 => "AH_AES-128-GMAC",
        /// AH_AES-192-GMAC.
        AES_192_GMAC = 12 => "AH_AES-192-GMAC",
        /// AH_AES-256-GMAC.
        AES_256_GMAC = 13 => "AH_AES-256-GMAC",
    }
}

dmvpn_wire::registry! {
    /// ESP transform IDs (RFC 2407 §4.4.4, IANA).
    pub struct EspTransformId(u8) {
        /// ESP_DES_IV64.
        DES_IV64 = 1 => "ESP_DES_IV64",
        /// ESP_DES.
        DES = 2 => "ESP_DES",
        /// ESP_3DES.
        TRIPLE_DES = 3 => "ESP_3DES",
        /// ESP_RC5.
        RC5 = 4 => "ESP_RC5",
        /// ESP_IDEA.
        IDEA = 5 => "ESP_IDEA",
        /// ESP_CAST.
        CAST = 6 => "ESP_CAST",
        /// ESP_BLOWFISH.
        BLOWFISH = 7 => "ESP_BLOWFISH",
        /// ESP_3IDEA.
        TRIPLE_IDEA = 8 => "ESP_3IDEA",
        /// ESP_DES_IV32.
        DES_IV32 = 9 => "ESP_DES_IV32",
        /// ESP_RC4.
        RC4 = 10 => "ESP_RC4",
        /// ESP_NULL.
        NULL = 11 => "ESP_NULL",
        /// ESP_AES-CBC (RFC 3602).
        AES_CBC = 12 => "ESP_AES-CBC",
        /// ESP_AES-CTR (RFC 3686).
        AES_CTR = 13 => "ESP_AES-CTR",
        /// ESP_AES-CCM_8 (RFC 4309).
        AES_CCM_8 = 14 => "ESP_AES-CCM_8",
        /// ESP_AES-CCM_12.
        AES_CCM_12 = 15 => "ESP_AES-CCM_12",
        /// ESP_AES-CCM_16.
        AES_CCM_16 = 16 => "ESP_AES-CCM_16",
        /// ESP_AES-GCM_8 (RFC 4106).
        AES_GCM_8 = 18 => "ESP_AES-GCM_8",
        /// ESP_AES-GCM_12.
        AES_GCM_12 = 19 => "ESP_AES-GCM_12",
        /// ESP_AES-GCM_16.
        AES_GCM_16 = 20 => "ESP_AES-GCM_16",
        /// ESP_SEED_CBC (RFC 4196).
        SEED_CBC = 21 => "ESP_SEED_CBC",
        /// ESP_CAMELLIA (RFC 4312).
        CAMELLIA = 22 => "ESP_CAMELLIA",
        /// ESP_NULL_AUTH_AES-GMAC (RFC 4543).
        NULL_AUTH_AES_GMAC = 23 => "ESP_NULL_AUTH_AES-GMAC",
    }
}

dmvpn_wire::registry! {
    /// IPCOMP transform IDs (RFC 2407 §4.4.5).
    pub struct IpcompTransformId(u8) {
        /// IPCOMP_OUI.
        OUI = 1 => "IPCOMP_OUI",
        /// IPCOMP_DEFLATE.
        DEFLATE = 2 => "IPCOMP_DEFLATE",
        /// IPCOMP_LZS.
        LZS = 3 => "IPCOMP_LZS",
        /// IPCOMP_LZJH.
        LZJH = 4 => "IPCOMP_LZJH",
    }
}

dmvpn_wire::registry! {
    /// Phase 1 (IKE) attribute classes (RFC 2409 Appendix A).
    pub struct IkeAttributeType(u16) {
        /// Encryption Algorithm.
        ENCRYPTION = 1 => "Encryption-Algorithm",
        /// Hash Algorithm.
        HASH = 2 => "Hash-Algorithm",
        /// Authentication Method.
        AUTH_METHOD = 3 => "Authentication-Method",
        /// Group Description.
        GROUP_DESCRIPTION = 4 => "Group-Description",
        /// Group Type.
        GROUP_TYPE = 5 => "Group-Type",
        /// Group Prime/Irreducible Polynomial.
        GROUP_PRIME = 6 => "Group-Prime",
        /// Group Generator One.
        GROUP_GENERATOR_ONE = 7 => "Group-Generator-One",
        /// Group Generator Two.
        GROUP_GENERATOR_TWO = 8 => "Group-Generator-Two",
        /// Group Curve A.
        GROUP_CURVE_A = 9 => "Group-Curve-A",
        /// Group Curve B.
        GROUP_CURVE_B = 10 => "Group-Curve-B",
        /// Life Type.
        LIFE_TYPE = 11 => "Life-Type",
        /// Life Duration.
        LIFE_DURATION = 12 => "Life-Duration",
        /// PRF.
        PRF = 13 => "PRF",
        /// Key Length (bits).
        KEY_LENGTH = 14 => "Key-Length",
        /// Field Size.
        FIELD_SIZE = 15 => "Field-Size",
        /// Group Order.
        GROUP_ORDER = 16 => "Group-Order",
    }
}

dmvpn_wire::registry! {
    /// Phase 1 encryption algorithms (RFC 2409 Appendix A, IANA).
    pub struct EncryptionAlgorithm(u16) {
        /// DES-CBC.
        DES_CBC = 1 => "DES-CBC",
        /// IDEA-CBC.
        IDEA_CBC = 2 => "IDEA-CBC",
        /// Blowfish-CBC.
        BLOWFISH_CBC = 3 => "Blowfish-CBC",
        /// RC5-R16-B64-CBC.
        RC5_R16_B64_CBC = 4 => "RC5-R16-B64-CBC",
        /// 3DES-CBC.
        TRIPLE_DES_CBC = 5 => "3DES-CBC",
        /// CAST-CBC.
        CAST_CBC = 6 => "CAST-CBC",
        /// AES-CBC (RFC 3602).
        AES_CBC = 7 => "AES-CBC",
        /// CAMELLIA-CBC (RFC 4312).
        CAMELLIA_CBC = 8 => "CAMELLIA-CBC",
    }
}

dmvpn_wire::registry! {
    /// Phase 1 hash algorithms (RFC 2409 Appendix A, RFC 4868 for SHA-2).
    pub struct HashAlgorithm(u16) {
        /// MD5.
        MD5 = 1 => "MD5",
        /// SHA-1.
        SHA1 = 2 => "SHA",
        /// Tiger.
        TIGER = 3 => "Tiger",
        /// SHA2-256.
        SHA2_256 = 4 => "SHA2-256",
        /// SHA2-384.
        SHA2_384 = 5 => "SHA2-384",
        /// SHA2-512.
        SHA2_512 = 6 => "SHA2-512",
    }
}

dmvpn_wire::registry! {
    /// Phase 1 authentication methods (RFC 2409 Appendix A, RFC 4754, and the XAUTH / hybrid drafts).
    pub struct AuthMethod(u16) {
        /// Pre-shared key.
        PSK = 1 => "Pre-shared key",
        /// DSS signatures.
        DSS = 2 => "DSS signatures",
        /// RSA signatures.
        RSA_SIG = 3 => "RSA signatures",
        /// Encryption with RSA.
        RSA_ENC = 4 => "Encryption with RSA",
        /// Revised encryption with RSA.
        RSA_REVISED = 5 => "Revised encryption with RSA",
        /// Encryption with El-Gamal.
        ELGAMAL = 6 => "Encryption with El-Gamal",
        /// Revised encryption with El-Gamal.
        ELGAMAL_REVISED = 7 => "Revised encryption with El-Gamal",
        /// ECDSA signatures.
        ECDSA = 8 => "ECDSA signatures",
        /// ECDSA with SHA-256 on P-256 (RFC 4754).
        ECDSA_256 = 9 => "ECDSA-256",
        /// ECDSA with SHA-384 on P-384 (RFC 4754).
        ECDSA_384 = 10 => "ECDSA-384",
        /// ECDSA with SHA-512 on P-521 (RFC 4754).
        ECDSA_521 = 11 => "ECDSA-521",
        /// HybridInitRSA (draft-ietf-ipsec-isakmp-hybrid-auth).
        HYBRID_INIT_RSA = 64221 => "HybridInitRSA",
        /// HybridRespRSA.
        HYBRID_RESP_RSA = 64222 => "HybridRespRSA",
        /// HybridInitDSS.
        HYBRID_INIT_DSS = 64223 => "HybridInitDSS",
        /// HybridRespDSS.
        HYBRID_RESP_DSS = 64224 => "HybridRespDSS",
        /// XAUTHInitPreShared (draft-beaulieu-ike-xauth).
        XAUTH_INIT_PSK = 65001 => "XAUTHInitPreShared",
        /// XAUTHRespPreShared.
        XAUTH_RESP_PSK = 65002 => "XAUTHRespPreShared",
        /// XAUTHInitDSS.
        XAUTH_INIT_DSS = 65003 => "XAUTHInitDSS",
        /// XAUTHRespDSS.
        XAUTH_RESP_DSS = 65004 => "XAUTHRespDSS",
        /// XAUTHInitRSA.
        XAUTH_INIT_RSA = 65005 => "XAUTHInitRSA",
        /// XAUTHRespRSA.
        XAUTH_RESP_RSA = 65006 => "XAUTHRespRSA",
        /// XAUTHInitRSAEncryption.
        XAUTH_INIT_RSA_ENC = 65007 => "XAUTHInitRSAEncryption",
        /// XAUTHRespRSAEncryption.
        XAUTH_RESP_RSA_ENC = 65008 => "XAUTHRespRSAEncryption",
        /// XAUTHInitRSARevisedEncryption.
        XAUTH_INIT_RSA_REVISED = 65009 => "XAUTHInitRSARevisedEncryption",
        /// XAUTHRespRSARevisedEncryption.
        XAUTH_RESP_RSA_REVISED = 65010 => "XAUTHRespRSARevisedEncryption",
    }
}

dmvpn_wire::registry! {
    /// Diffie-Hellman groups (RFC 2409 §6, RFC 3526, RFC 5114, RFC 5903, IANA).
    pub struct Group(u16) {
        /// 768-bit MODP (RFC 2409 §6.1).
        MODP_768 = 1 => "768-bit MODP",
        /// 1024-bit MODP (RFC 2409 §6.2).
        MODP_1024 = 2 => "1024-bit MODP",
        /// EC2N over GF(2^155).
        EC2N_155 = 3 => "EC2N 155",
        /// EC2N over GF(2^185).
        EC2N_185 = 4 => "EC2N 185",
        /// 1536-bit MODP (RFC 3526 §2).
        MODP_1536 = 5 => "1536-bit MODP",
        /// 2048-bit MODP (RFC 3526 §3).
        MODP_2048 = 14 => "2048-bit MODP",
        /// 3072-bit MODP.
        MODP_3072 = 15 => "3072-bit MODP",
        /// 4096-bit MODP.
        MODP_4096 = 16 => "4096-bit MODP",
        /// 6144-bit MODP.
        MODP_6144 = 17 => "6144-bit MODP",
        /// 8192-bit MODP.
        MODP_8192 = 18 => "8192-bit MODP",
        /// 256-bit random ECP (RFC 5903).
        ECP_256 = 19 => "256-bit ECP",
        /// 384-bit random ECP.
        ECP_384 = 20 => "384-bit ECP",
        /// 521-bit random ECP.
        ECP_521 = 21 => "521-bit ECP",
        /// 1024-bit MODP with 160-bit prime order subgroup (RFC 5114).
        MODP_1024_160 = 22 => "1024-bit MODP with 160-bit POS",
        /// 2048-bit MODP with 224-bit prime order subgroup.
        MODP_2048_224 = 23 => "2048-bit MODP with 224-bit POS",
        /// 2048-bit MODP with 256-bit prime order subgroup.
        MODP_2048_256 = 24 => "2048-bit MODP with 256-bit POS",
        /// 192-bit random ECP.
        ECP_192 = 25 => "192-bit ECP",
        /// 224-bit random ECP.
        ECP_224 = 26 => "224-bit ECP",
    }
}

dmvpn_wire::registry! {
    /// Phase 1 group types (RFC 2409 Appendix A).
    pub struct GroupType(u16) {
        /// MODP.
        MODP = 1 => "MODP",
        /// ECP.
        ECP = 2 => "ECP",
        /// EC2N.
        EC2N = 3 => "EC2N",
    }
}

dmvpn_wire::registry! {
    /// Life types, phase 1 (RFC 2409 Appendix A) and IPsec (RFC 2407 §4.5).
    pub struct LifeType(u16) {
        /// Seconds.
        SECONDS = 1 => "Seconds",
        /// Kilobytes.
        KILOBYTES = 2 => "Kilobytes",
    }
}

dmvpn_wire::registry! {
    /// IPsec DOI SA attribute classes (RFC 2407 §4.5, IANA).
    pub struct IpsecAttributeType(u16) {
        /// SA Life Type.
        LIFE_TYPE = 1 => "SA-Life-Type",
        /// SA Life Duration.
        LIFE_DURATION = 2 => "SA-Life-Duration",
        /// Group Description (PFS).
        GROUP_DESCRIPTION = 3 => "Group-Description",
        /// Encapsulation Mode.
        ENCAPSULATION_MODE = 4 => "Encapsulation-Mode",
        /// Authentication Algorithm.
        AUTH_ALGORITHM = 5 => "Authentication-Algorithm",
        /// Key Length (bits).
        KEY_LENGTH = 6 => "Key-Length",
        /// Key Rounds.
        KEY_ROUNDS = 7 => "Key-Rounds",
        /// Compress Dictionary Size.
        COMPRESS_DICTIONARY_SIZE = 8 => "Compress-Dictionary-Size",
        /// Compress Private Algorithm.
        COMPRESS_PRIVATE_ALGORITHM = 9 => "Compress-Private-Algorithm",
        /// ECN Tunnel (RFC 3168).
        ECN_TUNNEL = 10 => "ECN-Tunnel",
        /// Extended (64-bit) Sequence Number (RFC 4304).
        ESN = 11 => "Extended-Sequence-Number",
        /// Authentication Key Length.
        AUTH_KEY_LENGTH = 12 => "Authentication-Key-Length",
        /// Signature Encoding Algorithm.
        SIGNATURE_ENCODING = 13 => "Signature-Encoding-Algorithm",
        /// Address Preservation (RFC 6407).
        ADDRESS_PRESERVATION = 14 => "Address-Preservation",
        /// SA Direction (RFC 6407).
        SA_DIRECTION = 15 => "SA-Direction",
    }
}

dmvpn_wire::registry! {
    /// IPsec encapsulation modes (RFC 2407 §4.5, RFC 3947 §5.1, and the NAT-T draft private values).
    pub struct EncapsulationMode(u16) {
        /// Tunnel.
        TUNNEL = 1 => "Tunnel",
        /// Transport (what DMVPN uses for GRE).
        TRANSPORT = 2 => "Transport",
        /// UDP-Encapsulated-Tunnel (RFC 3947).
        UDP_TUNNEL = 3 => "UDP-Encapsulated-Tunnel",
        /// UDP-Encapsulated-Transport (RFC 3947).
        UDP_TRANSPORT = 4 => "UDP-Encapsulated-Transport",
        /// UDP-Encapsulated-Tunnel, draft-ietf-ipsec-nat-t-ike private value.
        UDP_TUNNEL_DRAFT = 61443 => "UDP-Encapsulated-Tunnel (draft)",
        /// UDP-Encapsulated-Transport, draft-ietf-ipsec-nat-t-ike private value.
        UDP_TRANSPORT_DRAFT = 61444 => "UDP-Encapsulated-Transport (draft)",
    }
}

dmvpn_wire::registry! {
    /// IPsec authentication algorithms (RFC 2407 §4.5, IANA).
    pub struct AuthAlgorithm(u16) {
        /// HMAC-MD5 (RFC 2403).
        HMAC_MD5 = 1 => "HMAC-MD5",
        /// HMAC-SHA-1 (RFC 2404).
        HMAC_SHA1 = 2 => "HMAC-SHA",
        /// DES-MAC.
        DES_MAC = 3 => "DES-MAC",
        /// KPDK.
        KPDK = 4 => "KPDK",
        /// HMAC-SHA2-256 (RFC 4868).
        HMAC_SHA2_256 = 5 => "HMAC-SHA2-256",
        /// HMAC-SHA2-384.
        HMAC_SHA2_384 = 6 => "HMAC-SHA2-384",
        /// HMAC-SHA2-512.
        HMAC_SHA2_512 = 7 => "HMAC-SHA2-512",
        /// HMAC-RIPEMD (RFC 2857).
        HMAC_RIPEMD = 8 => "HMAC-RIPEMD",
        /// AES-XCBC-MAC (RFC 3566).
        AES_XCBC_MAC = 9 => "AES-XCBC-MAC",
        /// SIG-RSA.
        SIG_RSA = 10 => "SIG-RSA",
        /// AES-128-GMAC (RFC 4543).
        AES_128_GMAC = 11 => "AES-128-GMAC",
        /// AES-192-GMAC.
        AES_192_GMAC = 12 => "AES-192-GMAC",
        /// AES-256-GMAC.
        AES_256_GMAC = 13 => "AES-256-GMAC",
    }
}

dmvpn_wire::registry! {
    /// Identification types of the IPsec DOI (RFC 2407 §4.6.2.1, RFC 3554).
    pub struct IdType(u8) {
        /// ID_IPV4_ADDR.
        IPV4_ADDR = 1 => "IPV4_ADDR",
        /// ID_FQDN.
        FQDN = 2 => "FQDN",
        /// ID_USER_FQDN.
        USER_FQDN = 3 => "USER_FQDN",
        /// ID_IPV4_ADDR_SUBNET.
        IPV4_ADDR_SUBNET = 4 => "IPV4_ADDR_SUBNET",
        /// ID_IPV6_ADDR.
        IPV6_ADDR = 5 => "IPV6_ADDR",
        /// ID_IPV6_ADDR_SUBNET.
        IPV6_ADDR_SUBNET = 6 => "IPV6_ADDR_SUBNET",
        /// ID_IPV4_ADDR_RANGE.
        IPV4_ADDR_RANGE = 7 => "IPV4_ADDR_RANGE",
        /// ID_IPV6_ADDR_RANGE.
        IPV6_ADDR_RANGE = 8 => "IPV6_ADDR_RANGE",
        /// ID_DER_ASN1_DN.
        DER_ASN1_DN = 9 => "DER_ASN1_DN",
        /// ID_DER_ASN1_GN.
        DER_ASN1_GN = 10 => "DER_ASN1_GN",
        /// ID_KEY_ID.
        KEY_ID = 11 => "KEY_ID",
        /// ID_LIST (RFC 3554).
        LIST = 12 => "LIST",
    }
}

dmvpn_wire::registry! {
    /// Certificate encodings of CERT and CR payloads (RFC 2408 §3.9, IANA).
    pub struct CertEncoding(u8) {
        /// NONE.
        NONE = 0 => "NONE",
        /// PKCS #7 wrapped X.509 certificate.
        PKCS7 = 1 => "PKCS #7 wrapped X.509 certificate",
        /// PGP Certificate.
        PGP = 2 => "PGP Certificate",
        /// DNS Signed Key.
        DNS_SIGNED_KEY = 3 => "DNS Signed Key",
        /// X.509 Certificate - Signature.
        X509_SIGNATURE = 4 => "X.509 Certificate - Signature",
        /// X.509 Certificate - Key Exchange.
        X509_KEY_EXCHANGE = 5 => "X.509 Certificate - Key Exchange",
        /// Kerberos Tokens.
        KERBEROS = 6 => "Kerberos Tokens",
        /// Certificate Revocation List (CRL).
        CRL = 7 => "Certificate Revocation List (CRL)",
        /// Authority Revocation List (ARL).
        ARL = 8 => "Authority Revocation List (ARL)",
        /// SPKI Certificate.
        SPKI = 9 => "SPKI Certificate",
        /// X.509 Certificate - Attribute.
        X509_ATTRIBUTE = 10 => "X.509 Certificate - Attribute",
        /// Raw RSA Key.
        RAW_RSA = 11 => "Raw RSA Key",
        /// Hash and URL of X.509 certificate (RFC 4306 §3.6).
        HASH_URL_X509 = 12 => "Hash and URL of X.509 certificate",
        /// Hash and URL of X.509 bundle.
        HASH_URL_BUNDLE = 13 => "Hash and URL of X.509 bundle",
    }
}

dmvpn_wire::registry! {
    /// Notify message types: RFC 2408 §3.14.1 errors and status, RFC 2407 §4.6.3 IPsec DOI status,
    /// RFC 3706 DPD, and Cisco Unity.
    pub struct NotifyType(u16) {
        /// INVALID-PAYLOAD-TYPE.
        INVALID_PAYLOAD_TYPE = 1 => "INVALID-PAYLOAD-TYPE",
        /// DOI-NOT-SUPPORTED.
        DOI_NOT_SUPPORTED = 2 => "DOI-NOT-SUPPORTED",
        /// SITUATION-NOT-SUPPORTED.
        SITUATION_NOT_SUPPORTED = 3 => "SITUATION-NOT-SUPPORTED",
        /// INVALID-COOKIE.
        INVALID_COOKIE = 4 => "INVALID-COOKIE",
        /// INVALID-MAJOR-VERSION.
        INVALID_MAJOR_VERSION = 5 => "INVALID-MAJOR-VERSION",
        /// INVALID-MINOR-VERSION.
        INVALID_MINOR_VERSION = 6 => "INVALID-MINOR-VERSION",
        /// INVALID-EXCHANGE-TYPE.
        INVALID_EXCHANGE_TYPE = 7 => "INVALID-EXCHANGE-TYPE",
        /// INVALID-FLAGS.
        INVALID_FLAGS = 8 => "INVALID-FLAGS",
        /// INVALID-MESSAGE-ID.
        INVALID_MESSAGE_ID = 9 => "INVALID-MESSAGE-ID",
        /// INVALID-PROTOCOL-ID.
        INVALID_PROTOCOL_ID = 10 => "INVALID-PROTOCOL-ID",
        /// INVALID-SPI.
        INVALID_SPI = 11 => "INVALID-SPI",
        /// INVALID-TRANSFORM-ID.
        INVALID_TRANSFORM_ID = 12 => "INVALID-TRANSFORM-ID",
        /// ATTRIBUTES-NOT-SUPPORTED.
        ATTRIBUTES_NOT_SUPPORTED = 13 => "ATTRIBUTES-NOT-SUPPORTED",
        /// NO-PROPOSAL-CHOSEN.
        NO_PROPOSAL_CHOSEN = 14 => "NO-PROPOSAL-CHOSEN",
        /// BAD-PROPOSAL-SYNTAX.
        BAD_PROPOSAL_SYNTAX = 15 => "BAD-PROPOSAL-SYNTAX",
        /// PAYLOAD-MALFORMED.
        PAYLOAD_MALFORMED = 16 => "PAYLOAD-MALFORMED",
        /// INVALID-KEY-INFORMATION.
        INVALID_KEY_INFORMATION = 17 => "INVALID-KEY-INFORMATION",
        /// INVALID-ID-INFORMATION.
        INVALID_ID_INFORMATION = 18 => "INVALID-ID-INFORMATION",
        /// INVALID-CERT-ENCODING.
        INVALID_CERT_ENCODING = 19 => "INVALID-CERT-ENCODING",
        /// INVALID-CERTIFICATE.
        INVALID_CERTIFICATE = 20 => "INVALID-CERTIFICATE",
        /// CERT-TYPE-UNSUPPORTED.
        CERT_TYPE_UNSUPPORTED = 21 => "CERT-TYPE-UNSUPPORTED",
        /// INVALID-CERT-AUTHORITY.
        INVALID_CERT_AUTHORITY = 22 => "INVALID-CERT-AUTHORITY",
        /// INVALID-HASH-INFORMATION.
        INVALID_HASH_INFORMATION = 23 => "INVALID-HASH-INFORMATION",
        /// AUTHENTICATION-FAILED.
        AUTHENTICATION_FAILED = 24 => "AUTHENTICATION-FAILED",
        /// INVALID-SIGNATURE.
        INVALID_SIGNATURE = 25 => "INVALID-SIGNATURE",
        /// ADDRESS-NOTIFICATION.
        ADDRESS_NOTIFICATION = 26 => "ADDRESS-NOTIFICATION",
        /// NOTIFY-SA-LIFETIME.
        NOTIFY_SA_LIFETIME = 27 => "NOTIFY-SA-LIFETIME",
        /// CERTIFICATE-UNAVAILABLE.
        CERTIFICATE_UNAVAILABLE = 28 => "CERTIFICATE-UNAVAILABLE",
        /// UNSUPPORTED-EXCHANGE-TYPE.
        UNSUPPORTED_EXCHANGE_TYPE = 29 => "UNSUPPORTED-EXCHANGE-TYPE",
        /// UNEQUAL-PAYLOAD-LENGTHS.
        UNEQUAL_PAYLOAD_LENGTHS = 30 => "UNEQUAL-PAYLOAD-LENGTHS",
        /// CONNECTED (RFC 2408 §3.14.1 status).
        CONNECTED = 16384 => "CONNECTED",
        /// RESPONDER-LIFETIME (RFC 2407 §4.6.3.1).
        RESPONDER_LIFETIME = 24576 => "RESPONDER-LIFETIME",
        /// REPLAY-STATUS (RFC 2407 §4.6.3.2).
        REPLAY_STATUS = 24577 => "REPLAY-STATUS",
        /// INITIAL-CONTACT (RFC 2407 §4.6.3.3).
        INITIAL_CONTACT = 24578 => "INITIAL-CONTACT",
        /// R-U-THERE (RFC 3706 §5).
        R_U_THERE = 36136 => "R-U-THERE",
        /// R-U-THERE-ACK (RFC 3706 §5).
        R_U_THERE_ACK = 36137 => "R-U-THERE-ACK",
        /// Cisco Unity load balance (redirect to another gateway).
        UNITY_LOAD_BALANCE = 40501 => "UNITY-LOAD-BALANCE",
    }
}

dmvpn_wire::registry! {
    /// Mode-config message types (draft-dukes-ike-mode-cfg §3.2), which IKEv2's Configuration
    /// payload keeps (RFC 7296 §3.15; also [`crate::v2::consts::CfgType`]).
    pub struct CfgType(u8) {
        /// ISAKMP_CFG_REQUEST.
        REQUEST = 1 => "CFG_REQUEST",
        /// ISAKMP_CFG_REPLY.
        REPLY = 2 => "CFG_REPLY",
        /// ISAKMP_CFG_SET.
        SET = 3 => "CFG_SET",
        /// ISAKMP_CFG_ACK.
        ACK = 4 => "CFG_ACK",
    }
}

dmvpn_wire::registry! {
    /// Mode-config attribute types (draft-dukes-ike-mode-cfg §3.3), XAUTH (draft-beaulieu-ike-xauth §6.2)
    /// and Cisco Unity.
    pub struct CfgAttributeType(u16) {
        /// INTERNAL_IP4_ADDRESS.
        INTERNAL_IP4_ADDRESS = 1 => "INTERNAL_IP4_ADDRESS",
        /// INTERNAL_IP4_NETMASK.
        INTERNAL_IP4_NETMASK = 2 => "INTERNAL_IP4_NETMASK",
        /// INTERNAL_IP4_DNS.
        INTERNAL_IP4_DNS = 3 => "INTERNAL_IP4_DNS",
        /// INTERNAL_IP4_NBNS.
        INTERNAL_IP4_NBNS = 4 => "INTERNAL_IP4_NBNS",
        /// INTERNAL_ADDRESS_EXPIRY.
        INTERNAL_ADDRESS_EXPIRY = 5 => "INTERNAL_ADDRESS_EXPIRY",
        /// INTERNAL_IP4_DHCP.
        INTERNAL_IP4_DHCP = 6 => "INTERNAL_IP4_DHCP",
        /// APPLICATION_VERSION.
        APPLICATION_VERSION = 7 => "APPLICATION_VERSION",
        /// INTERNAL_IP6_ADDRESS.
        INTERNAL_IP6_ADDRESS = 8 => "INTERNAL_IP6_ADDRESS",
        /// INTERNAL_IP6_NETMASK.
        INTERNAL_IP6_NETMASK = 9 => "INTERNAL_IP6_NETMASK",
        /// INTERNAL_IP6_DNS.
        INTERNAL_IP6_DNS = 10 => "INTERNAL_IP6_DNS",
        /// INTERNAL_IP6_NBNS.
        INTERNAL_IP6_NBNS = 11 => "INTERNAL_IP6_NBNS",
        /// INTERNAL_IP6_DHCP.
        INTERNAL_IP6_DHCP = 12 => "INTERNAL_IP6_DHCP",
        /// INTERNAL_IP4_SUBNET.
        INTERNAL_IP4_SUBNET = 13 => "INTERNAL_IP4_SUBNET",
        /// SUPPORTED_ATTRIBUTES.
        SUPPORTED_ATTRIBUTES = 14 => "SUPPORTED_ATTRIBUTES",
        /// INTERNAL_IP6_SUBNET.
        INTERNAL_IP6_SUBNET = 15 => "INTERNAL_IP6_SUBNET",
        /// XAUTH-TYPE.
        XAUTH_TYPE = 16520 => "XAUTH-TYPE",
        /// XAUTH-USER-NAME.
        XAUTH_USER_NAME = 16521 => "XAUTH-USER-NAME",
        /// XAUTH-USER-PASSWORD.
        XAUTH_USER_PASSWORD = 16522 => "XAUTH-USER-PASSWORD",
        /// XAUTH-PASSCODE.
        XAUTH_PASSCODE = 16523 => "XAUTH-PASSCODE",
        /// XAUTH-MESSAGE.
        XAUTH_MESSAGE = 16524 => "XAUTH-MESSAGE",
        /// XAUTH-CHALLENGE.
        XAUTH_CHALLENGE = 16525 => "XAUTH-CHALLENGE",
        /// XAUTH-DOMAIN.
        XAUTH_DOMAIN = 16526 => "XAUTH-DOMAIN",
        /// XAUTH-STATUS.
        XAUTH_STATUS = 16527 => "XAUTH-STATUS",
        /// XAUTH-NEXT-PIN.
        XAUTH_NEXT_PIN = 16528 => "XAUTH-NEXT-PIN",
        /// XAUTH-ANSWER.
        XAUTH_ANSWER = 16529 => "XAUTH-ANSWER",
        /// UNITY_BANNER.
        UNITY_BANNER = 28672 => "UNITY_BANNER",
        /// UNITY_SAVE_PASSWD.
        UNITY_SAVE_PASSWD = 28673 => "UNITY_SAVE_PASSWD",
        /// UNITY_DEF_DOMAIN.
        UNITY_DEF_DOMAIN = 28674 => "UNITY_DEF_DOMAIN",
        /// UNITY_SPLITDNS_NAME.
        UNITY_SPLITDNS_NAME = 28675 => "UNITY_SPLITDNS_NAME",
        /// UNITY_SPLIT_INCLUDE.
        UNITY_SPLIT_INCLUDE = 28676 => "UNITY_SPLIT_INCLUDE",
        /// UNITY_NATT_PORT.
        UNITY_NATT_PORT = 28677 => "UNITY_NATT_PORT",
        /// UNITY_LOCAL_LAN.
        UNITY_LOCAL_LAN = 28678 => "UNITY_LOCAL_LAN",
        /// UNITY_PFS.
        UNITY_PFS = 28679 => "UNITY_PFS",
        /// UNITY_FW_TYPE.
        UNITY_FW_TYPE = 28680 => "UNITY_FW_TYPE",
        /// UNITY_BACKUP_SERVERS.
        UNITY_BACKUP_SERVERS = 28681 => "UNITY_BACKUP_SERVERS",
        /// UNITY_DDNS_HOSTNAME.
        UNITY_DDNS_HOSTNAME = 28682 => "UNITY_DDNS_HOSTNAME",
    }
}
