//! Every `code` a problem response can carry, with its status and when it is given: the one list the table in
//! `docs/api-conventions.md` is generated from (`provider-api-openapi` writes it). The tests below read the
//! API's source: a code given anywhere that is not listed here fails, and so does a listed code nothing gives.
//!
//! Field-level codes (`errors[].code`: `required`, `blank`, `dbs_too_old`, ...) are listed with the forms and
//! sections they belong to, and each carries its own detail.

/// One problem code.
pub struct Code {
    pub code: &'static str,
    pub status: &'static str,
    pub when: &'static str,
}

const fn code(status: &'static str, code: &'static str, when: &'static str) -> Code {
    Code { code, status, when }
}

/// In the order of the table: by status, then as the request meets them.
pub const ALL: &[Code] = &[
    code("400", "malformed_json", "the body is not JSON, or is nested more than 128 levels deep"),
    code("400", "unreadable_body", "the body could not be read (the connection failed while it was sent)"),
    code("400", "invalid_query", "a query parameter is not acceptable, or a cursor is not one `next` gave"),
    code("400", "idempotency_key_required", "an operation that needs `Idempotency-Key` was sent without one"),
    code("400", "content_length_mismatch", "a one-request upload's body is not as long as its `Content-Length`"),
    code("400", "invalid_tus_header", "a tus header (`Upload-Length`, `Upload-Offset`, ...) is not a number"),
    code("400", "upload_length_required", "a tus creation without `Upload-Length`"),
    code("400", "upload_offset_required", "a tus `PATCH` without `Upload-Offset`"),
    code(
        "400",
        "invalid_upload_metadata",
        "`Upload-Metadata` is not `key base64,...`, or a value is not what it should be",
    ),
    code("400", "invalid_upload_checksum", "`Upload-Checksum` is not `sha256 <base64>`"),
    code("400", "defer_length_unsupported", "tus: `Upload-Defer-Length` is not supported; give `Upload-Length`"),
    code("400", "checksum_algorithm_unsupported", "`Upload-Checksum` names an algorithm other than `sha256`"),
    code("400", "invalid_request", "OAuth: a parameter is missing or malformed (RFC 6749; also in `error`)"),
    code("400", "invalid_grant", "OAuth: the code, refresh token or credentials grant is not valid (RFC 6749)"),
    code("400", "invalid_scope", "OAuth: a scope that does not exist, or more than the client may have"),
    code("400", "unsupported_grant_type", "OAuth: a grant type this server does not issue tokens for"),
    code("400", "unauthorized_client", "OAuth: this client may not use this grant type"),
    code(
        "401",
        "second_factor_required",
        "the password was right, and the account signs in with a second factor: sign in in a browser",
    ),
    code("401", "unauthenticated", "no access token"),
    code("401", "invalid_token", "the access token is expired, revoked, or not this API's; the detail says what to do"),
    code("401", "invalid_client", "OAuth: the client's credentials are wrong, or it is revoked"),
    code("401", "invalid_credentials", "the email address or password is wrong"),
    code("403", "forbidden", "the principal may not do this here; `permission` names what is missing"),
    code(
        "403",
        "first_party_only",
        "an API client's credentials are handed only to a person signed in to the regulator's own service (`docs/identity.md`)",
    ),
    code("403", "beyond_your_access", "an API client that could do more than the person handling its credentials"),
    code(
        "403",
        "four_eyes",
        "a second person's review (approval) is needed first, or software may not send on its own (`docs/review.md`)",
    ),
    code("404", "not_found", "nothing there, **or it belongs to another organisation** (existence never leaks)"),
    code("405", "method_not_allowed", "this address does not take this method; `Allow` lists those it does"),
    code("408", "request_timeout", "the body stalled"),
    code(
        "408",
        "upload_deadline",
        "an upload request ran past `upload_request_deadline`; a tus upload keeps what arrived (`Upload-Offset`)",
    ),
    code("409", "conflict", "a uniqueness rule refused the change (the email address, provider ID, ... is taken)"),
    code("409", "invalid_transition", "not possible in the object's state; `current_status` says which it is in"),
    code("409", "changed_meanwhile", "someone else changed it at the same moment: read it again and retry"),
    code("409", "idempotency_key_in_flight", "a request with this `Idempotency-Key` is still running: retry shortly"),
    code("409", "last_admin", "the organisation's last admin cannot be removed or lose the role"),
    code("409", "not_pending", "the invitation was accepted or revoked already"),
    code("409", "already_a_member", "an invitation for someone who is a member already: change the member instead"),
    code(
        "409",
        "staff_account",
        "the email belongs to a regulator staff account, which cannot be a member of a provider",
    ),
    code("409", "not_rotatable", "the API client authenticates with keys (`private_key_jwt`), not a secret"),
    code("409", "not_a_key_client", "the API client authenticates with a secret, not keys"),
    code(
        "409",
        "not_a_provider",
        "staff: only a provider record (with a provider ID) can have locations brought across from the register",
    ),
    code("409", "self_disable", "a member of staff cannot disable their own account"),
    code("409", "document_frozen", "the document was sent with a submission, so it is kept as sent"),
    code(
        "409",
        "document_attached",
        "a draft notification names the document: take it off the draft before deleting it",
    ),
    code("409", "document_not_clean", "the document's malware scan is not clean, so its content is not served"),
    code("409", "upload_busy", "another request is writing this tus upload now"),
    code("409", "import_running", "staff: another import of the register is still running; one at a time"),
    code(
        "409",
        "upload_offset_mismatch",
        "`Upload-Offset` is not where the tus upload stands: `HEAD` it and resume from there",
    ),
    code("409", "already_approved", "a review asked for a draft whose current version is approved already: send it"),
    code("409", "review_already_requested", "a review of this version of the draft was asked for already"),
    code("409", "already_answered", "the request for information was answered already"),
    code("409", "no_proposal", "representations without a notice of proposal to answer"),
    code("409", "representations_closed", "the 28 days for representations have passed"),
    code("409", "proposal_required", "staff: refusing, or granting with conditions, needs a notice of proposal first"),
    code("409", "representations_window_open", "staff: a decision while the applicant may still make representations"),
    code("409", "not_proposed", "staff: conditions or a refusal the notice of proposal did not propose"),
    code(
        "409",
        "registration_changed",
        "staff: what the application changes has changed since it was made (another decision came first)",
    ),
    code("412", "stale", "`If-Match` names a version that is not the current one, or a weak ETag"),
    code("412", "tus_version_unsupported", "`Tus-Resumable` is not `1.0.0`"),
    code("413", "payload_too_large", "the body is over the limit, declared or streamed"),
    code(
        "413",
        "storage_quota_exceeded",
        "the organisation's documents and unfinished uploads would pass its storage quota",
    ),
    code("413", "document_too_large", "the document is over the size limit (`Upload-Length` or the bytes sent)"),
    code("415", "unsupported_media_type", "not `application/json` (or another `+json` type) where JSON is expected"),
    code(
        "415",
        "document_type_not_allowed",
        "a document type not accepted, a multipart form, or a tus upload without `filetype`",
    ),
    code("415", "content_type_mismatch", "the document's first bytes are not of the type declared"),
    code("416", "range_not_satisfiable", "a `Range` outside the document"),
    code(
        "422",
        "validation_failed",
        "fields are invalid: `errors` lists each with a JSON Pointer, a code and a detail",
    ),
    code("422", "idempotency_key_reused", "the `Idempotency-Key` was used with another body"),
    code("428", "if_match_required", "`If-Match` is required: `*`, or a value that is no ETag, cannot stand in for it"),
    code("429", "rate_limited", "too many requests; `Retry-After` says when to try again"),
    code("429", "too_many_invitations", "the organisation has sent as many invitations as it may in 24 hours"),
    code("429", "too_many_open_uploads", "the organisation has as many unfinished uploads open as it may"),
    code("429", "too_many_attempts", "signing in (or accepting an invitation) too often; `Retry-After`"),
    code("460", "checksum_mismatch", "tus: the body does not match `Upload-Checksum` (nothing of it is kept)"),
    code("500", "internal_error", "reveals nothing; quote `request_id`"),
    code("503", "service_unavailable", "the database is away or the request was too slow; `Retry-After`"),
    code("503", "uploads_busy", "every place for staging uploads on this server is taken; `Retry-After`"),
    code("4xx", "http_error", "any other client error a lower layer produced, named by its status"),
];

/// The markdown table of [`ALL`], as `docs/api-conventions.md` holds it between its markers.
pub fn table() -> String {
    let mut out = String::from("| status | code | when |\n|---|---|---|\n");
    for c in ALL {
        out.push_str(&format!("| {} | `{}` | {} |\n", c.status, c.code, c.when));
    }
    out
}

/// Where the table lives, relative to the workspace root, and the markers around it.
pub const DOCS_PATH: &str = "docs/api-conventions.md";
pub const START: &str = "<!-- problem codes: generated from api/src/http/codes.rs by provider-api-openapi -->\n";
pub const END: &str = "<!-- end of problem codes -->\n";

/// `docs` with the table between the markers replaced by the current one; `None` without the markers.
pub fn with_current_table(docs: &str) -> Option<String> {
    let start = docs.find(START)? + START.len();
    let end = start + docs[start..].find(END)?;
    Some(format!("{}{}{}", &docs[..start], table(), &docs[end..]))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    use regex::Regex;

    use super::*;

    /// Every code the API's source passes to a problem's constructors (`Problem::new(status, "code", ...)`,
    /// `in_state("code", ...)`, the tus and OAuth helpers, the decision conflicts).
    fn codes_in_source() -> BTreeSet<String> {
        let after_status =
            Regex::new(r#"(?:Problem::new|Self::new|oauth_error)\(\s*(?:[^,"()]|\([^()]*\))+?,\s*"([a-z0-9_]+)""#)
                .unwrap();
        let first = Regex::new(r#"(?:in_state|bad_request|conflict)\(\s*"([a-z0-9_]+)""#).unwrap();
        let mut found = BTreeSet::new();
        let mut folders = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("src")];
        while let Some(folder) = folders.pop() {
            for entry in std::fs::read_dir(&folder).unwrap().map(Result::unwrap) {
                let path = entry.path();
                if path.is_dir() {
                    folders.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("http/codes.rs") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    for pattern in [&after_status, &first] {
                        found.extend(pattern.captures_iter(&text).map(|c| c[1].to_owned()));
                    }
                }
            }
        }
        found
    }

    fn listed() -> BTreeSet<String> {
        ALL.iter().map(|c| c.code.to_owned()).collect()
    }

    #[test]
    fn every_problem_code_the_api_gives_is_listed() {
        let unlisted: Vec<String> = codes_in_source().difference(&listed()).cloned().collect();
        assert!(unlisted.is_empty(), "give these an entry in api/src/http/codes.rs: {unlisted:?}");
    }

    #[test]
    fn every_listed_code_is_given_somewhere() {
        let unused: Vec<String> = listed().difference(&codes_in_source()).cloned().collect();
        assert!(unused.is_empty(), "nothing gives these any more: {unused:?}");
        assert_eq!(listed().len(), ALL.len(), "a code listed twice");
    }

    #[test]
    fn the_docs_table_is_the_generated_one() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(DOCS_PATH);
        let docs = std::fs::read_to_string(&path).unwrap();
        let current = with_current_table(&docs).expect("the docs keep the table's markers");
        assert!(
            current == docs,
            "{DOCS_PATH}'s problem-code table is stale: run `cargo run -p provider-api-http --bin provider-api-openapi`"
        );
    }
}
