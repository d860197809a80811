/* run_command in C: examples/run_command.cpp's program (same arguments, output and exit statuses) on
 * libtwoway's C API (<twoway/twoway.h>) and blocking POSIX sockets, with no Asio and no C++. It shows
 * the sans-I/O shape: the library never touches the socket; this program moves bytes between the
 * socket and three handles (handshake, then channel carrying the session protocol).
 *
 *   run_command --key PATH --host-key PATH.pub [--account NAME] [--port N] HOST COMMAND...
 *
 * Exit status: the command's (255 if above 255); 255 with one line on stderr when the connection,
 * the handshake or the session fails, the server refuses the command or a signal kills it.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <netdb.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <twoway/twoway.h>

enum { failure = 255, buffer_size = 64 * 1024 };

static int fail(const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("run_command: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return failure;
}

static int usage(void) {
    fputs("usage: run_command --key PATH --host-key PATH.pub [--account NAME] [--port N] HOST COMMAND...\n", stderr);
    return 2;
}

static int write_all(int fd, const uint8_t* p, size_t n) {
    while (n > 0) {
        const ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int connect_to(const char* host, const char* port) {
    struct addrinfo hints, *res = NULL, *ai;
    int fd = -1, rc;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
        fail("%s: %s", host, gai_strerror(rc));
        return -1;
    }
    for (ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0) fail("connect to %s port %s: %s", host, port, strerror(errno));
    return fd;
}

/* The first key line of a .pub file. */
static int read_public_key(const char* path, uint8_t key[TWOWAY_KEY_SIZE]) {
    char line[8192];
    int rc = TWOWAY_E_NOT_FOUND;
    FILE* f = fopen(path, "r");
    if (f == NULL) return fail("%s: %s", path, strerror(errno));
    while (rc != TWOWAY_OK && fgets(line, sizeof line, f) != NULL) {
        const char* p = line + strspn(line, " \t");
        if (*p == '#' || *p == '\n' || *p == '\0') continue;
        line[strcspn(line, "\r\n")] = '\0';
        rc = twoway_public_key_parse(p, key);
        if (rc != TWOWAY_OK) break;
    }
    fclose(f);
    if (rc != TWOWAY_OK) return fail("%s: %s", path, twoway_strerror(rc));
    return 0;
}

/* Sends whatever the handle holds: handshake output, or channel records. */
static int flush_handshake(int fd, twoway_handshake* hs, uint8_t* buf) {
    size_t n;
    while ((n = twoway_handshake_output(hs, buf, buffer_size)) > 0) {
        if (write_all(fd, buf, n) != 0) return -1;
    }
    return 0;
}

/* The session's output, sealed into records, then sent. */
static int flush_session(int fd, twoway_session* s, twoway_channel* ch, uint8_t* buf) {
    size_t n;
    while ((n = twoway_session_output(s, buf, buffer_size)) > 0) {
        if (twoway_channel_send(ch, buf, n) != TWOWAY_OK) return -1;
    }
    while ((n = twoway_channel_output(ch, buf, buffer_size)) > 0) {
        if (write_all(fd, buf, n) != 0) return -1;
    }
    return 0;
}

static const char* reject_reason(uint32_t code) {
    switch (code) {
        case 1: return "administratively prohibited";
        case 2: return "unknown service";
        case 3: return "could not start";
        case 4: return "no pseudo-terminal available";
        case 5: return "resource shortage";
        default: return "refused";
    }
}

struct outcome {
    int exit_code; /* -1 until the command's exit status arrives */
    char error[1200];
};

/* Handles the session's queued events; -1 when it cannot go on. */
static int handle_events(twoway_session* s, struct outcome* o) {
    twoway_session_event ev;
    while (twoway_session_next_event(s, &ev)) {
        switch (ev.type) {
            case TWOWAY_EV_ACCEPTED: /* no input from us: end the command's stdin at once, unless the */
                /* whole session (output, exit, CLOSE) came with the acceptance and is over already */
                if (!twoway_session_finished(s) && twoway_session_send_eof(s) != TWOWAY_OK) return -1;
                break;
            case TWOWAY_EV_REJECTED: /* the protocol lets no control characters through */
                snprintf(o->error, sizeof o->error, "command refused by the server: %s%s%s%s",
                         reject_reason(ev.code), *ev.text ? " (" : "", ev.text, *ev.text ? ")" : "");
                break;
            case TWOWAY_EV_DATA:
                if (write_all(ev.stream == TWOWAY_STREAM_ERR ? 2 : 1, ev.data, ev.len) != 0) {
                    snprintf(o->error, sizeof o->error, "cannot write the command's output: %s", strerror(errno));
                    return -1;
                }
                /* Only now may the server send this much more on the stream. */
                if (twoway_session_consumed(s, ev.stream, ev.len) != TWOWAY_OK) return -1;
                break;
            case TWOWAY_EV_EXIT_STATUS: /* never modulo 256: that would turn 256 into success */
                o->exit_code = ev.code > failure ? failure : (int)ev.code;
                break;
            case TWOWAY_EV_EXIT_SIGNAL:
                snprintf(o->error, sizeof o->error, "remote command killed by signal %s%s", ev.text,
                         ev.core_dumped ? " (core dumped)" : "");
                break;
            default: /* EOF, window, CLOSED (our CLOSE is queued already) */
                break;
        }
    }
    return 0;
}

/* What run() allocates, released by main() however run() returns. */
static twoway_key* key = NULL;
static twoway_handshake* hs = NULL;
static twoway_channel* ch = NULL;
static twoway_session* s = NULL;
static char* command = NULL;
static int fd = -1;

static int run(int argc, char** argv) {
    const char *key_path = NULL, *host_key_path = NULL, *account = NULL, *port = "4422";
    const struct passwd* pw = getpwuid(getuid());
    uint8_t host_key[TWOWAY_KEY_SIZE], peer[TWOWAY_KEY_SIZE];
    static uint8_t buf[buffer_size];
    struct outcome o = {-1, ""};
    size_t command_len = 0;
    int i, rc;

    if (pw != NULL) account = pw->pw_name;
    for (i = 1; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
        if (strcmp(argv[i], "--key") == 0) key_path = argv[i + 1];
        else if (strcmp(argv[i], "--host-key") == 0) host_key_path = argv[i + 1];
        else if (strcmp(argv[i], "--account") == 0) account = argv[i + 1];
        else if (strcmp(argv[i], "--port") == 0) port = argv[i + 1];
        else return usage();
    }
    if (key_path == NULL || host_key_path == NULL || account == NULL || argc - i < 2) return usage();
    const char* host = argv[i++];
    for (; i < argc; ++i) { /* the words joined with spaces; the remote shell splits them again */
        const size_t n = strlen(argv[i]);
        char* grown = realloc(command, command_len + n + 2);
        if (grown == NULL) return fail("out of memory");
        command = grown;
        if (command_len > 0) command[command_len++] = ' ';
        memcpy(command + command_len, argv[i], n + 1);
        command_len += n;
    }

    if ((rc = twoway_key_load(key_path, NULL, &key)) != TWOWAY_OK) return fail("%s: %s", key_path, twoway_strerror(rc));
    if (read_public_key(host_key_path, host_key) != 0) return failure;
    if ((rc = twoway_session_start(TWOWAY_REQUEST_EXEC, command, NULL, &s)) != TWOWAY_OK) {
        return fail("the command: %s", twoway_strerror(rc));
    }
    signal(SIGPIPE, SIG_IGN); /* a closed stdout fails a write (reported) instead of killing us */
    if ((fd = connect_to(host, port)) < 0) return failure;

    /* The handshake. Passing the host key also proves to a server in stealth mode that we know it. */
    if ((rc = twoway_handshake_client_new(key, account, host_key, &hs)) != TWOWAY_OK) {
        return fail("handshake: %s", twoway_strerror(rc));
    }
    for (;;) {
        const twoway_handshake_event ev = twoway_handshake_next(hs);
        if (flush_handshake(fd, hs, buf) != 0) return fail("write: %s", strerror(errno));
        if (ev == TWOWAY_HS_COMPLETE) break;
        if (ev == TWOWAY_HS_FAILED) {
            rc = twoway_handshake_error(hs);
            if (rc == TWOWAY_E_HOST_KEY_REJECTED) {
                return fail("Host key verification failed: the server's key is not the one in %s", host_key_path);
            }
            if (rc == TWOWAY_E_AUTH_DENIED) return fail("Permission denied (publickey).");
            return fail("handshake: %s", twoway_strerror(rc));
        }
        if (ev == TWOWAY_HS_NEED_VERDICT) { /* the server proved it holds this key: is it the one we expect? */
            twoway_handshake_peer_key(hs, peer);
            if (memcmp(peer, host_key, sizeof peer) == 0) twoway_handshake_accept(hs);
            else twoway_handshake_reject(hs, NULL);
            continue;
        }
        const ssize_t n = read(fd, buf, buffer_size);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail("read: %s", strerror(errno));
        if (n == 0) twoway_handshake_end_of_input(hs);
        else twoway_handshake_feed(hs, buf, (size_t)n);
    }
    if ((rc = twoway_handshake_finish(hs, &ch)) != TWOWAY_OK) return fail("handshake: %s", twoway_strerror(rc));
    twoway_handshake_free(hs);
    hs = NULL;

    /* The session: write what it has to say, then feed it what the server sends, until both have closed.
     * The channel may hold records that came with the handshake's last message: read those first. */
    static uint8_t plain[buffer_size], net[buffer_size]; /* buf is flush_session's scratch */
    size_t have = 0, off = 0;
    for (;;) {
        if (flush_session(fd, s, ch, buf) != 0) return fail("write: %s", strerror(errno));
        if (twoway_session_finished(s) || o.error[0] != '\0') break;
        size_t n = 0;
        twoway_read_kind kind;
        if ((rc = twoway_channel_read(ch, plain, sizeof plain, &n, &kind)) != TWOWAY_OK) {
            return fail("channel: %s", twoway_strerror(rc));
        }
        if (kind == TWOWAY_READ_CLOSED) {
            snprintf(o.error, sizeof o.error, "the server closed the connection before the command ended");
            break;
        }
        if (kind == TWOWAY_READ_DATA) {
            if ((rc = twoway_session_feed(s, plain, n)) != TWOWAY_OK) return fail("session: %s", twoway_strerror(rc));
            if (handle_events(s, &o) != 0) break;
            continue;
        }
        /* Need more: what is left of the last read, else read the socket. */
        if (off == have) {
            const ssize_t r = read(fd, net, buffer_size);
            if (r < 0 && errno == EINTR) continue;
            if (r < 0) return fail("read: %s", strerror(errno));
            if (r == 0) {
                rc = twoway_channel_end_of_input(ch);
                if (rc != TWOWAY_OK) return fail("read: %s", twoway_strerror(rc));
                continue;
            }
            have = (size_t)r;
            off = 0;
        }
        size_t used = 0;
        if ((rc = twoway_channel_feed(ch, net + off, have - off, &used)) != TWOWAY_OK) {
            return fail("channel: %s", twoway_strerror(rc));
        }
        off += used;
    }
    if (o.error[0] == '\0' && o.exit_code < 0) snprintf(o.error, sizeof o.error, "the session ended without an exit status");
    /* Both CLOSEs are through (or the server refused): end the channel with its authenticated close. */
    if (twoway_channel_close(ch) == TWOWAY_OK) flush_session(fd, s, ch, buf);
    if (o.error[0] != '\0') return fail("%s", o.error);
    return o.exit_code;
}

int main(int argc, char** argv) {
    const int status = run(argc, argv);
    if (fd >= 0) close(fd);
    twoway_session_free(s);
    twoway_channel_free(ch);
    twoway_handshake_free(hs);
    twoway_key_free(key);
    free(command);
    return status;
}
