/** @file
 * libtwoway's C API: the sans-I/O handshake and channel, the exporter, key loading, the trust
 * decisions (known_hosts, authorized_keys, revoked key lists) and the client side of the session
 * protocol, for C programs and for other languages' foreign function interfaces (Python's ctypes:
 * examples/python/run_command.py). docs/LIBRARY.md, "The C API", is the tutorial; this header is the
 * reference.
 *
 * Conventions, the same for every function:
 *  - Handles are opaque and owned by the caller: each constructor (twoway_key_load,
 *    twoway_handshake_client_new, ...) that succeeds gives one, to be released with the matching _free
 *    function (which accepts NULL). A handle is not thread-safe; distinct handles may be used from
 *    distinct threads.
 *  - Functions that can fail return an int status: TWOWAY_OK (0), a TWOWAY_E_* code (> 0, the numbers
 *    of the C++ twoway::errc), or a negated errno value (< 0) for what the operating system refused
 *    (-ENOENT for a missing file, -EACCES, -ENOMEM when memory ran out). twoway_strerror() names any of
 *    them. No C++ exception ever crosses this interface.
 *  - A NULL handle or output pointer, or a NULL where a string is required, is TWOWAY_E_INVALID_ARGUMENT.
 *  - Strings in are NUL-terminated UTF-8 (the library checks what each may hold). Strings out that the
 *    caller owns are malloc'd and released with twoway_free(); strings out that the handle owns say how
 *    long they stay valid.
 *  - Public keys are their 32 raw Ed25519 bytes (TWOWAY_KEY_SIZE). Private keys never leave their
 *    handle; their memory is libsodium's guarded allocation, wiped when freed.
 *  - Output to send is held by the handle until taken: the _output_size function says how much waits
 *    and the _output function copies up to cap bytes of it, in order, removing them.
 */
#ifndef TWOWAY_TWOWAY_H
#define TWOWAY_TWOWAY_H

#include <stddef.h>
#include <stdint.h>

/** Marks the C API's functions as exported from libtwoway.so (the library hides everything else). */
#if defined(__GNUC__) || defined(__clang__)
#define TWOWAY_C_API __attribute__((visibility("default")))
#else
#define TWOWAY_C_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- status codes ------------------------------------------------------------------------------ */
/** The values are twoway::errc's (<twoway/error.hpp>) and never change meaning. */
enum {
    TWOWAY_OK = 0, /**< success */
    /** 1..99: malformed or truncated input (from a peer or from a file) */
    TWOWAY_E_SHORT_INPUT = 1, /**< input ends too soon */
    TWOWAY_E_TRAILING_DATA = 2, /**< unexpected bytes after the end of the input */
    TWOWAY_E_LENGTH_TOO_LARGE = 3, /**< a length field is larger than allowed */
    TWOWAY_E_MALFORMED = 4, /**< malformed input */
    TWOWAY_E_BAD_KEY_FORMAT = 5, /**< not a key in a format twoway understands */
    TWOWAY_E_UNSUPPORTED_KEY_TYPE = 6, /**< unsupported key type (only ssh-ed25519 is supported) */
    TWOWAY_E_ENCRYPTED_OPENSSH_KEY = 7, /**< an OpenSSH private key protected by a passphrase (decrypt a copy with ssh-keygen -p) */
    TWOWAY_E_KEY_MISMATCH = 8, /**< private and public parts of the key do not match */
    TWOWAY_E_CORRUPT_KEY_FILE = 9, /**< key file is damaged (checksum mismatch) */
    TWOWAY_E_KDF_PARAMS_REJECTED = 10, /**< key file asks for passphrase hashing (Argon2id) parameters outside the accepted limits */
    /** 100..199: the peer misbehaved or failed to authenticate */
    TWOWAY_E_UNEXPECTED_MESSAGE = 100, /**< unexpected message */
    TWOWAY_E_UNSUPPORTED_VERSION = 101, /**< no protocol version in common */
    TWOWAY_E_UNSUPPORTED_SUITE = 102, /**< no cipher suite in common */
    TWOWAY_E_WEAK_PUBLIC_KEY = 103, /**< peer sent a weak (small-order) key share */
    TWOWAY_E_REFLECTED_MESSAGE = 104, /**< peer reflected our own message */
    TWOWAY_E_BAD_SIGNATURE = 105, /**< signature verification failed */
    TWOWAY_E_BAD_FINISHED = 106, /**< handshake Finished value did not verify */
    TWOWAY_E_DECRYPT_FAILED = 107, /**< message authentication failed */
    TWOWAY_E_RECORD_TOO_LARGE = 108, /**< record larger than the maximum */
    TWOWAY_E_TRUNCATED = 109, /**< connection ended without an authenticated close */
    TWOWAY_E_HOST_KEY_REJECTED = 110, /**< host key rejected */
    TWOWAY_E_AUTH_DENIED = 111, /**< permission denied */
    TWOWAY_E_PEER_CLOSED = 112, /**< peer closed the session */
    TWOWAY_E_COUNTER_EXHAUSTED = 113, /**< record counter exhausted */
    TWOWAY_E_WINDOW_EXCEEDED = 114, /**< peer violated session flow control (sent beyond its window) */
    TWOWAY_E_HOST_KEY_MAC_INVALID = 115, /**< client_hello does not prove knowledge of the host key (stealth mode) */
    TWOWAY_E_PREAUTH_LIMIT = 116, /**< pre-authentication byte limit exceeded */
    TWOWAY_E_WRONG_CERTIFICATE_TYPE = 117, /**< certificate of the wrong type for its role (a user certificate as a server's identity, or the reverse) */
    /** 200..299: local configuration or usage */
    TWOWAY_E_INVALID_ARGUMENT = 200, /**< invalid argument */
    TWOWAY_E_WRONG_PASSPHRASE = 201, /**< incorrect passphrase supplied to decrypt private key */
    TWOWAY_E_PASSPHRASE_REQUIRED = 202, /**< private key is encrypted and no passphrase was given */
    TWOWAY_E_INSECURE_PERMISSIONS = 203, /**< private key file is accessible by others (permissions must be 0600 or stricter) */
    TWOWAY_E_IO_ERROR = 204, /**< input/output error */
    TWOWAY_E_NOT_FOUND = 205, /**< not found */
    TWOWAY_E_BAD_STATE = 206, /**< operation not allowed in the current state */
    TWOWAY_E_INTERNAL = 207 /**< internal error */
};

#define TWOWAY_KEY_SIZE 32 /**< an Ed25519 public key, raw */
#define TWOWAY_SEED_SIZE 32 /**< an Ed25519 private key seed */
#define TWOWAY_SESSION_ID_SIZE 32 /**< HandshakeResult::session_id */

/** A static English text for any status this library returns (never NULL; "unknown error N" for others). */
TWOWAY_C_API const char* twoway_strerror(int status);

/** The library's version, "MAJOR.MINOR.PATCH" (static). */
TWOWAY_C_API const char* twoway_version(void);

/** Releases a string (or other memory) the library allocated for the caller. NULL is fine. */
TWOWAY_C_API void twoway_free(void* p);

/* ---- keys -------------------------------------------------------------------------------------- */
typedef struct twoway_key twoway_key; /**< an Ed25519 private key */

/** A fresh key from the system's random source. */
TWOWAY_C_API int twoway_key_generate(twoway_key** out);
/** The key for a 32-byte seed (tests, keys derived elsewhere). */
TWOWAY_C_API int twoway_key_from_seed(const uint8_t seed[TWOWAY_SEED_SIZE], twoway_key** out);
/** A private key file: twoway's format (encrypted or not) or an unencrypted OpenSSH Ed25519 key, as
 * twoway-keygen and ssh-keygen write them. passphrase may be NULL (none). Refused as ssh refuses it:
 * a file that group or others may read (TWOWAY_E_INSECURE_PERMISSIONS), larger than 64 KiB
 * (TWOWAY_E_LENGTH_TOO_LARGE), not a regular file. Also TWOWAY_E_NOT_FOUND, TWOWAY_E_PASSPHRASE_REQUIRED,
 * TWOWAY_E_WRONG_PASSPHRASE, TWOWAY_E_BAD_KEY_FORMAT, TWOWAY_E_ENCRYPTED_OPENSSH_KEY. */
TWOWAY_C_API int twoway_key_load(const char* path, const char* passphrase, twoway_key** out);
/** Wipes and frees a key (NULL is fine). */
TWOWAY_C_API void twoway_key_free(twoway_key* key);
/** The key's public half. */
TWOWAY_C_API int twoway_key_public(const twoway_key* key, uint8_t out[TWOWAY_KEY_SIZE]);

/** "ssh-ed25519 AAAA... comment" for a public key (comment may be NULL or empty); *out to twoway_free. */
TWOWAY_C_API int twoway_public_key_line(const uint8_t key[TWOWAY_KEY_SIZE], const char* comment, char** out);
/** The key of a public key line ("ssh-ed25519 AAAA... [comment]", as in a .pub file; no options). */
TWOWAY_C_API int twoway_public_key_parse(const char* line, uint8_t out[TWOWAY_KEY_SIZE]);
/** OpenSSH's fingerprint, "SHA256:" and unpadded base64; *out to twoway_free. */
TWOWAY_C_API int twoway_fingerprint(const uint8_t key[TWOWAY_KEY_SIZE], char** out);

/* ---- trust decisions --------------------------------------------------------------------------- */
/** The verdict on a server key, as <twoway/trust.hpp>'s check_host gives it. */
typedef enum twoway_host_status {
    TWOWAY_HOST_KNOWN = 0, /**< a line names this host and port with this key */
    TWOWAY_HOST_UNKNOWN = 1, /**< nothing names the host: first contact (ask the person) */
    TWOWAY_HOST_CHANGED = 2, /**< lines name the host with other keys only: possible man in the middle */
    TWOWAY_HOST_REVOKED = 3, /**< an \@revoked line holds this key */
    TWOWAY_HOST_UNCERTAIN = 4 /**< a line that may decide cannot be read: never treat the host as new */
} twoway_host_status;

/** Checks key for host (name or address without brackets) and port against known_hosts files, in the
 * order given (the user's file, then the global one). A missing file is an empty one, as in OpenSSH.
 * A file that exists but cannot be read fails the call (its -errno or TWOWAY_E_LENGTH_TOO_LARGE) and
 * sets *status to TWOWAY_HOST_UNCERTAIN: an unreadable trust file never makes a known host look new.
 * When a file was cut short by a limit, an UNKNOWN verdict also comes back as UNCERTAIN. */
TWOWAY_C_API int twoway_known_hosts_check(const char* const* paths, size_t count, const char* host, uint16_t port,
                                          const uint8_t key[TWOWAY_KEY_SIZE], twoway_host_status* status);
/** Appends "host key" to a known_hosts file atomically (created 0600 if missing), unless it holds the
 * key already; fails with TWOWAY_E_HOST_KEY_REJECTED if the file now says anything but unknown for the
 * host (another key was added meanwhile). */
TWOWAY_C_API int twoway_known_hosts_add(const char* path, const char* host, uint16_t port,
                                        const uint8_t key[TWOWAY_KEY_SIZE]);
/** Whether an authorized_keys file holds key (*authorized 1) or not (0). A missing file holds nothing.
 * A file that cannot be read fails the call with *authorized 0. Lines twoway cannot use (bad options,
 * other key types) authorize nothing, and neither do lines whose options need a connection to decide
 * (from=, expiry-time=) or name a CA (cert-authority). */
TWOWAY_C_API int twoway_authorized_keys_check(const char* path, const uint8_t key[TWOWAY_KEY_SIZE],
                                              int* authorized);
/** Whether a revocation file (twowayd's RevokedKeys: an OpenSSH KRL or a text list of keys) revokes key.
 * Fails closed: a file that is missing, unreadable, a KRL that does not parse or a list holding a line
 * it does not understand revokes every key (*revoked 1), and the call then returns the reason (an
 * -errno, or TWOWAY_E_MALFORMED for a bad KRL or line). */
TWOWAY_C_API int twoway_revoked_check(const char* path, const uint8_t key[TWOWAY_KEY_SIZE], int* revoked);

/* ---- the handshake (sans-I/O; docs/PROTOCOL.md) ---------------------------------------------- */
/** A handshake in progress, client or server (docs/PROTOCOL.md). */
typedef struct twoway_handshake twoway_handshake;
/** The AEAD channel a completed handshake opened, with what the handshake established. */
typedef struct twoway_channel twoway_channel;

/** What a handshake needs next (twoway_handshake_next). */
typedef enum twoway_handshake_event {
    TWOWAY_HS_WANT_INPUT = 0, /**< send the output, then read bytes from the peer and feed them */
    TWOWAY_HS_NEED_VERDICT = 1, /**< client: is the server's key the expected one? server: may the
                                      client's key log in to the account? twoway_handshake_peer_key and
                                      _account say who; answer with _accept or _reject */
    TWOWAY_HS_COMPLETE = 2, /**< send the output, then twoway_handshake_finish */
    TWOWAY_HS_FAILED = 3, /**< send the output (the server's generic denial), then close;
                                      twoway_handshake_error says why */
    TWOWAY_HS_NEED_PASSWORD_RECORD = 4 /**< server, password mode: twoway_handshake_account names the
                                      account a client wants to log in to with its password; answer with
                                      twoway_handshake_password_record (or _reject) */
} twoway_handshake_event;

/** A client handshake proving identity (copied: the handle keeps its own copy) for account.
 * known_server_key (may be NULL): the server key the caller already trusts for this host, whose
 * knowledge client_hello proves (a server in stealth mode answers nobody else); the verdict is still
 * asked for. The first flight is in the output at once. */
TWOWAY_C_API int twoway_handshake_client_new(const twoway_key* identity, const char* account,
                                             const uint8_t* known_server_key, twoway_handshake** out);
/** A server handshake with host_key (copied). stealth: 1 refuses silently a client_hello that does not
 * prove knowledge of the host key (PROTOCOL.md 4.1.1), 0 answers every client. */
TWOWAY_C_API int twoway_handshake_server_new(const twoway_key* host_key, int stealth, twoway_handshake** out);
/** Frees a handshake and wipes its secrets (NULL is fine). */
TWOWAY_C_API void twoway_handshake_free(twoway_handshake* hs);

/** Bytes received from the peer, any chunking. Returns the sticky error once the handshake failed. */
TWOWAY_C_API int twoway_handshake_feed(twoway_handshake* hs, const uint8_t* data, size_t len);
/** The transport ended: TWOWAY_E_TRUNCATED unless already complete. */
TWOWAY_C_API int twoway_handshake_end_of_input(twoway_handshake* hs);
/** How many bytes wait to be sent (0 for NULL). */
TWOWAY_C_API size_t twoway_handshake_output_size(const twoway_handshake* hs);
/** Copies up to cap bytes of the output to buf and removes them; returns how many (0 when none wait). */
TWOWAY_C_API size_t twoway_handshake_output(twoway_handshake* hs, uint8_t* buf, size_t cap);
/** What to do next (TWOWAY_HS_FAILED for a NULL handle). */
TWOWAY_C_API twoway_handshake_event twoway_handshake_next(const twoway_handshake* hs);
/** Why it failed (TWOWAY_OK while it has not). */
TWOWAY_C_API int twoway_handshake_error(const twoway_handshake* hs);
/** The peer's verified key, from TWOWAY_HS_NEED_VERDICT on; TWOWAY_E_BAD_STATE before. */
TWOWAY_C_API int twoway_handshake_peer_key(const twoway_handshake* hs, uint8_t out[TWOWAY_KEY_SIZE]);
/** The account: the one asked for (client: configured; server: from TWOWAY_HS_NEED_VERDICT on; NULL
 * before). Owned by the handle, valid until it is freed. Printable, but the peer's: escape it. */
TWOWAY_C_API const char* twoway_handshake_account(const twoway_handshake* hs);
/** The peer's certificate, from TWOWAY_HS_NEED_VERDICT on, when its identity was one (PROTOCOL.md 4.7):
 * the ssh-ed25519-cert-v01@openssh.com blob, *len bytes, owned by the handle. The handshake checked its
 * CA signature and its type for the peer's role, and twoway_handshake_peer_key is the key it certifies;
 * whether its CA is trusted and it fits (principals, validity, revocation) is the verdict's to judge.
 * NULL with *len 0 for a plain key, before the verdict, or for a NULL handle. */
TWOWAY_C_API const uint8_t* twoway_handshake_peer_certificate(const twoway_handshake* hs, size_t* len);
/** Client: the server's banner (sshd's Banner), from TWOWAY_HS_NEED_VERDICT on: *len bytes (at most
 * 8192), owned by the handle, signed by the server's key; any bytes, so escape it before a terminal
 * sees it. NULL with *len 0 when the server sent none, before the verdict, on a server handle. */
TWOWAY_C_API const uint8_t* twoway_handshake_banner(const twoway_handshake* hs, size_t* len);
/** The verdict on TWOWAY_HS_NEED_VERDICT (TWOWAY_E_BAD_STATE at any other time). Client: accept sends
 * its proof; reject fails the handshake with TWOWAY_E_HOST_KEY_REJECTED, and nothing about the client
 * was revealed. Server: accept completes; reject sends the generic denial and fails with
 * TWOWAY_E_AUTH_DENIED; reason (may be NULL) is kept for twoway_handshake_denial_reason, never sent. */
TWOWAY_C_API int twoway_handshake_accept(twoway_handshake* hs);
/** The refusing verdict on TWOWAY_HS_NEED_VERDICT (see twoway_handshake_accept). */
TWOWAY_C_API int twoway_handshake_reject(twoway_handshake* hs, const char* reason);
/** Server: why the client was refused, for the log only (the reject reason or the error's text); "" if
 * it was not. Owned by the handle. */
TWOWAY_C_API const char* twoway_handshake_denial_reason(const twoway_handshake* hs);
/** Once TWOWAY_HS_COMPLETE: the channel (exactly once; TWOWAY_E_BAD_STATE otherwise). Send the
 * handshake's remaining output before the channel's. The handshake handle may be freed afterwards. */
TWOWAY_C_API int twoway_handshake_finish(twoway_handshake* hs, twoway_channel** out);

/* ---- password mode (OPAQUE, docs/PROTOCOL.md 4.8) -------------------------------------------------
 * The client proves an account's password without the server ever learning it, and the server proves
 * it holds the account's record, so the password authenticates the host too. The server holds an
 * OPAQUE key (docs/KEYS.md section 7) and one record per account, made by twoway_password_register. */

/** The server's OPAQUE key: the OPRF seed and the AKE key pair. Secret; wiped when freed. */
typedef struct twoway_opaque_key twoway_opaque_key;
/** A new OPAQUE key from the system's randomness (to save, use twoway-passwd or the C++ API). */
TWOWAY_C_API int twoway_opaque_key_generate(twoway_opaque_key** out);
/** Loads an OPAQUE key file (docs/KEYS.md section 7); refused unless it is a regular file owned by the
 * effective user with mode 0600 at most (TWOWAY_E_INSECURE_PERMISSIONS); -ENOENT when it does not exist,
 * a decoding status (such as TWOWAY_E_MALFORMED) for a file that is not one. */
TWOWAY_C_API int twoway_opaque_key_load(const char* path, twoway_opaque_key** out);
/** Frees and wipes an OPAQUE key (NULL is fine). */
TWOWAY_C_API void twoway_opaque_key_free(twoway_opaque_key* key);

/** Registers password (len bytes, any bytes but not empty) for account: the record line, as stored in
 * the records directory ("twoway-opaque-v1 argon2id13 ops=N mem=N <base64>\n"), malloc'd into *out
 * (it holds the account's masking key: overwrite it before twoway_free). ops and mem_kib are the
 * Argon2id parameters the client will run (both 0: the defaults, 3 passes over 256 MiB); the record holds
 * neither the password nor a fast hash of it. */
TWOWAY_C_API int twoway_password_register(const twoway_opaque_key* key, const char* account, const uint8_t* password,
                                          size_t len, uint32_t ops, uint32_t mem_kib, char** out);

/** A client handshake logging in to account with a password instead of a key (PROTOCOL.md 4.8).
 * known_server_key as for twoway_handshake_client_new. The verdict on the server's key
 * (TWOWAY_HS_NEED_VERDICT) is answered with twoway_handshake_accept_password, or _reject. */
TWOWAY_C_API int twoway_handshake_client_new_password(const char* account, const uint8_t* known_server_key,
                                                      twoway_handshake** out);
/** Client, password mode, on TWOWAY_HS_NEED_VERDICT: log in with password (len bytes, copied into
 * secure memory; wipe your own copy). host_trusted 1: the server's key is the one expected for the host;
 * 0: it is not known, and the handshake goes on so that the password's proof decides
 * (twoway_channel_host_proven_by_password then says whether the server proved the account's record).
 * A wrong password, or an account without a record, fails the handshake with TWOWAY_E_AUTH_DENIED
 * after the server's answer, alike. */
TWOWAY_C_API int twoway_handshake_accept_password(twoway_handshake* hs, const uint8_t* password, size_t len,
                                                  int host_trusted);
/** A server handshake (as twoway_handshake_server_new) that also accepts password logins with key
 * (copied). A client that proves the password then raises TWOWAY_HS_NEED_VERDICT with
 * twoway_handshake_password 1 and no peer key: the account policy's turn. */
TWOWAY_C_API int twoway_handshake_server_new_password(const twoway_key* host_key, int stealth,
                                                      const twoway_opaque_key* key, twoway_handshake** out);
/** Server, on TWOWAY_HS_NEED_PASSWORD_RECORD: the account's record line (as twoway_password_register
 * made it), or NULL when the account has none: then a fake answer that costs the same is sent, and the
 * client cannot tell an unknown account from a wrong password. A record that does not parse fails the
 * handshake (generic denial) with TWOWAY_E_MALFORMED. */
TWOWAY_C_API int twoway_handshake_password_record(twoway_handshake* hs, const char* record);
/** 1 when the handshake logs in by password: a client made by _client_new_password, or a server whose
 * client proved the account's password (from TWOWAY_HS_NEED_VERDICT on); 0 otherwise. */
TWOWAY_C_API int twoway_handshake_password(const twoway_handshake* hs);

/* ---- the channel: AEAD records over the byte stream -------------------------------------------- */
/** What twoway_channel_read found. */
typedef enum twoway_read_kind {
    TWOWAY_READ_NEED_MORE = 0, /**< no complete record: feed more bytes from the transport */
    TWOWAY_READ_DATA = 1, /**< *n > 0 application bytes were copied */
    TWOWAY_READ_CLOSED = 2 /**< the peer's authenticated close: end of stream (on every later call) */
} twoway_read_kind;

/** Frees a channel and wipes its keys (NULL is fine). */
TWOWAY_C_API void twoway_channel_free(twoway_channel* ch);
/** Seals len bytes (any size, cut into records) into the output. TWOWAY_E_BAD_STATE after close. */
TWOWAY_C_API int twoway_channel_send(twoway_channel* ch, const uint8_t* data, size_t len);
/** Queues the authenticated close; nothing can be sent afterwards. */
TWOWAY_C_API int twoway_channel_close(twoway_channel* ch);
/** How many sealed bytes wait to be sent (0 for NULL). */
TWOWAY_C_API size_t twoway_channel_output_size(const twoway_channel* ch);
/** Copies up to cap sealed bytes to buf and removes them; returns how many. */
TWOWAY_C_API size_t twoway_channel_output(twoway_channel* ch, uint8_t* buf, size_t cap);
/** Bytes from the transport. Takes what the receive buffer has room for (*consumed, which may be less
 * than len: call twoway_channel_read until TWOWAY_READ_NEED_MORE, then feed the rest). */
TWOWAY_C_API int twoway_channel_feed(twoway_channel* ch, const uint8_t* data, size_t len, size_t* consumed);
/** Opens buffered records: up to cap application bytes into buf (*n), or says there are none. */
TWOWAY_C_API int twoway_channel_read(twoway_channel* ch, uint8_t* buf, size_t cap, size_t* n,
                                     twoway_read_kind* kind);
/** The transport ended: TWOWAY_OK if the peer's close arrived (or records wait to be read), else
 * TWOWAY_E_TRUNCATED. */
TWOWAY_C_API int twoway_channel_end_of_input(twoway_channel* ch);
/** What the handshake established: the peer's key, the account, the session id (equal on both sides). */
TWOWAY_C_API int twoway_channel_peer_key(const twoway_channel* ch, uint8_t out[TWOWAY_KEY_SIZE]);
/** The account the client was granted (both sides); owned by the handle. */
TWOWAY_C_API const char* twoway_channel_account(const twoway_channel* ch);
/** 1 when the client logged in with a password (both sides; twoway_channel_peer_key then gives 32 zero
 * bytes on the server), else 0. */
TWOWAY_C_API int twoway_channel_password(const twoway_channel* ch);
/** Client, password mode: 1 when the host key was not trusted beforehand (host_trusted 0) and the
 * server proved the account's password record, which only the server the password was registered with
 * holds: the caller may now record the host key as proven by the password. Else 0. */
TWOWAY_C_API int twoway_channel_host_proven_by_password(const twoway_channel* ch);
/** The session id, unique per session and equal on both sides; not secret. */
TWOWAY_C_API int twoway_channel_session_id(const twoway_channel* ch, uint8_t out[TWOWAY_SESSION_ID_SIZE]);
/** Keying material bound to this session (channel binding), equal on both sides for equal arguments:
 * label 1..245 bytes, context any (may be NULL when context_len is 0), out_len 1..16320. */
TWOWAY_C_API int twoway_channel_export(const twoway_channel* ch, const char* label, const uint8_t* context,
                                       size_t context_len, uint8_t* out, size_t out_len);

/* ---- the session protocol, client side (<twoway/session.hpp>) --------------------------------- */
/** The client side of a session (a shell, a command or a service). It runs on the channel's plaintext:
 * what twoway_session_output gives goes to twoway_channel_send;
 * what twoway_channel_read gives goes to twoway_session_feed.
 * A server's keep-alive (PING) is answered in that output by the session itself, with no event. */
typedef struct twoway_session twoway_session;

/** What a session asks for. */
typedef enum twoway_request_kind {
    TWOWAY_REQUEST_SHELL = 1, /**< the account's login shell (command must be NULL or empty) */
    TWOWAY_REQUEST_EXEC = 2, /**< command, run by the account's shell as with ssh */
    TWOWAY_REQUEST_SERVICE = 3, /**< a service the daemon names (command is its name) */
    TWOWAY_REQUEST_SUBSYSTEM = 4, /**< a subsystem the daemon names, as ssh -s (command is its name: "sftp") */
    TWOWAY_REQUEST_DIRECT = 5 /**< a TCP connection from the daemon to command, "host:port" (ssh -W host:port) */
} twoway_request_kind;

/** A data stream of the session. */
typedef enum twoway_stream_id {
    TWOWAY_STREAM_IN = 0,  /**< client to server: the remote stdin, or the bytes for a service */
    TWOWAY_STREAM_OUT = 1, /**< server to client: the remote stdout, or the bytes from a service */
    TWOWAY_STREAM_ERR = 2  /**< server to client: the remote stderr */
} twoway_stream_id;

/** The kinds of session events. */
typedef enum twoway_session_event_type {
    TWOWAY_EV_ACCEPTED = 1, /**< the server started it: send input (twoway_session_send), then EOF */
    TWOWAY_EV_REJECTED = 2, /**< refused: code (a reject code, 1..5 today) and text; the session is over */
    TWOWAY_EV_DATA = 3, /**< data, len bytes on stream (out or err); report them consumed */
    TWOWAY_EV_EOF = 4, /**< nothing more on stream */
    TWOWAY_EV_WINDOW = 5, /**< the server granted more: twoway_session_send_capacity grew */
    TWOWAY_EV_EXIT_STATUS = 6, /**< code: the command's exit status (above 255: exit with 255) */
    TWOWAY_EV_EXIT_SIGNAL = 7, /**< text: the signal's name ("TERM"); core_dumped */
    TWOWAY_EV_CLOSED = 8 /**< the server closed the session; our CLOSE is queued in reply */
} twoway_session_event_type;

/** One event. data and text point into the handle and stay valid until the next call on it. */
typedef struct twoway_session_event {
    twoway_session_event_type type; /**< what happened */
    twoway_stream_id stream;        /**< DATA, EOF, WINDOW: which stream */
    const uint8_t* data;            /**< DATA: the bytes */
    size_t len;                     /**< DATA: how many (never 0) */
    uint32_t code;                  /**< REJECTED: the reject code; EXIT_STATUS: the status */
    const char* text; /**< "" when there is none; the server's words: escape before showing */
    int core_dumped; /**< EXIT_SIGNAL: 1 if the process dumped core */
} twoway_session_event;

/** Starts a session asking for kind/command; env: NULL or a NULL-terminated array of "NAME=value"
 * variables to send first (the server decides which it takes). The request is in the output at once. */
TWOWAY_C_API int twoway_session_start(twoway_request_kind kind, const char* command, const char* const* env,
                                      twoway_session** out);
/** Frees a session (NULL is fine). */
TWOWAY_C_API void twoway_session_free(twoway_session* s);
/** Plaintext from the channel, any chunking. The events it completes are queued for
 * twoway_session_next_event. Returns the sticky error once the session failed. */
TWOWAY_C_API int twoway_session_feed(twoway_session* s, const uint8_t* data, size_t len);
/** The next queued event into *ev: returns 1, or 0 when none waits. */
TWOWAY_C_API int twoway_session_next_event(twoway_session* s, twoway_session_event* ev);
/** Input for the remote (stdin, or the service), after TWOWAY_EV_ACCEPTED: takes at most
 * twoway_session_send_capacity bytes, *taken says how many (0: wait for TWOWAY_EV_WINDOW or send the
 * output first). */
TWOWAY_C_API int twoway_session_send(twoway_session* s, const uint8_t* data, size_t len, size_t* taken);
/** How many input bytes twoway_session_send would take now. */
TWOWAY_C_API size_t twoway_session_send_capacity(const twoway_session* s);
/** No more input (once). */
TWOWAY_C_API int twoway_session_send_eof(twoway_session* s);
/** The application disposed of n bytes it got on stream (out or err): the server may send that much more. */
TWOWAY_C_API int twoway_session_consumed(twoway_session* s, twoway_stream_id stream, size_t n);
/** Ends the session from this side. Not needed after TWOWAY_EV_CLOSED. */
TWOWAY_C_API int twoway_session_close(twoway_session* s);
/** How many bytes wait to go to twoway_channel_send. */
TWOWAY_C_API size_t twoway_session_output_size(const twoway_session* s);
/** Copies up to cap bytes for the channel to buf and removes them; returns how many. */
TWOWAY_C_API size_t twoway_session_output(twoway_session* s, uint8_t* buf, size_t cap);
/** 1 once nothing more will be sent or received (refused, or both CLOSEs through): send the output,
 * then close the channel. */
TWOWAY_C_API int twoway_session_finished(const twoway_session* s);

#ifdef __cplusplus
}
#endif

#endif /**< TWOWAY_TWOWAY_H */
