/* The broker's own ceiling for the bridge's message pattern, per job:
 *   one persistent request -> a worker consumes it, publishes five persistent events with publisher
 *   confirms to a topic exchange (created, started, progress, success, ended) and acks the request ->
 *   a client counts the `ended` events.
 * One binary, three roles in three processes (bench/run starts them):
 *   limit worker  QUEUE EXCHANGE            consume requests, publish events, until killed
 *                                           (requests are taken in batches up to the prefetch and
 *                                           their events streamed; confirms awaited per batch)
 *   limit count   EXCHANGE N                bind job.*.ended, print the wall-clock time of the Nth
 *   limit publish QUEUE N                   publish N persistent 200-byte requests
 * No Swift, no bridge: what no bridge on this broker can beat.
 */
#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static void die_on(int bad, const char *what) {
    if (bad) { fprintf(stderr, "limit: %s failed\n", what); exit(1); }
}

static void check_reply(amqp_rpc_reply_t r, const char *what) {
    die_on(r.reply_type != AMQP_RESPONSE_NORMAL, what);
}

static amqp_connection_state_t open_conn(void) {
    amqp_connection_state_t c = amqp_new_connection();
    amqp_socket_t *s = amqp_tcp_socket_new(c);
    die_on(!s || amqp_socket_open(s, "127.0.0.1", 5672) != AMQP_STATUS_OK, "connect");
    check_reply(amqp_login(c, "/", 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, "guest", "guest"), "login");
    amqp_channel_open(c, 1);
    check_reply(amqp_get_rpc_reply(c), "channel.open");
    return c;
}

static void wait_confirms(amqp_connection_state_t c, uint64_t upto) {
    uint64_t confirmed = 0;
    while (confirmed < upto) {
        amqp_frame_t f;
        die_on(amqp_simple_wait_frame(c, &f) != AMQP_STATUS_OK, "wait confirm");
        if (f.frame_type == AMQP_FRAME_METHOD && f.payload.method.id == AMQP_BASIC_ACK_METHOD) {
            amqp_basic_ack_t *a = f.payload.method.decoded;
            confirmed = a->delivery_tag;
        } else if (f.frame_type == AMQP_FRAME_METHOD && f.payload.method.id == AMQP_BASIC_NACK_METHOD) {
            die_on(1, "nack");
        }
    }
}

static int worker(const char *queue, const char *exchange) {
    amqp_connection_state_t in = open_conn(), out = open_conn();
    amqp_exchange_declare(out, 1, amqp_cstring_bytes(exchange), amqp_cstring_bytes("topic"), 0, 1, 0, 0, amqp_empty_table);
    check_reply(amqp_get_rpc_reply(out), "exchange.declare");
    amqp_confirm_select(out, 1);
    check_reply(amqp_get_rpc_reply(out), "confirm.select");
    amqp_queue_declare(in, 1, amqp_cstring_bytes(queue), 0, 1, 0, 0, amqp_empty_table);
    check_reply(amqp_get_rpc_reply(in), "queue.declare");
    amqp_basic_qos(in, 1, 0, 100, 0);
    amqp_basic_consume(in, 1, amqp_cstring_bytes(queue), amqp_empty_bytes, 0, 0, 0, amqp_empty_table);
    check_reply(amqp_get_rpc_reply(in), "basic.consume");
    static const char *events[] = {"created", "started", "progress", "success", "ended"};
    char body[400];
    memset(body, 'e', sizeof body);
    amqp_basic_properties_t p = {0};
    p._flags = AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_CONTENT_TYPE_FLAG;
    p.delivery_mode = 2;
    p.content_type = amqp_cstring_bytes("application/cloudevents+json");
    uint64_t tag = 0, job = 0, last_delivery = 0;
    struct timeval zero = {0, 0};
    for (;;) {
        /* Take what has arrived (at least one request, at most the prefetch), publish every event of
         * those jobs streamed in order, wait for the broker's confirms, then ack the requests at once:
         * the loosest pipelining a bridge could do, so a ceiling. */
        int batch = 0;
        while (batch < 100) {
            amqp_envelope_t env;
            amqp_maybe_release_buffers(in);
            amqp_rpc_reply_t r = amqp_consume_message(in, &env, batch ? &zero : NULL, 0);
            if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && r.library_error == AMQP_STATUS_TIMEOUT) break;
            if (r.reply_type != AMQP_RESPONSE_NORMAL) return 1;
            last_delivery = env.delivery_tag;
            amqp_destroy_envelope(&env);
            for (int e = 0; e < 5; e++) {
                char key[64];
                snprintf(key, sizeof key, "job.%llu.%s", (unsigned long long)job, events[e]);
                amqp_basic_publish(out, 1, amqp_cstring_bytes(exchange), amqp_cstring_bytes(key), 0, 0, &p,
                                   (amqp_bytes_t){sizeof body, body});
                ++tag;
            }
            job++;
            batch++;
        }
        wait_confirms(out, tag);
        amqp_basic_ack(in, 1, last_delivery, 1);
    }
}

static int count(const char *exchange, long n) {
    amqp_connection_state_t c = open_conn();
    amqp_exchange_declare(c, 1, amqp_cstring_bytes(exchange), amqp_cstring_bytes("topic"), 0, 1, 0, 0, amqp_empty_table);
    check_reply(amqp_get_rpc_reply(c), "exchange.declare");
    amqp_queue_declare_ok_t *q = amqp_queue_declare(c, 1, amqp_empty_bytes, 0, 0, 1, 1, amqp_empty_table);
    check_reply(amqp_get_rpc_reply(c), "queue.declare");
    amqp_bytes_t name = amqp_bytes_malloc_dup(q->queue);
    amqp_queue_bind(c, 1, name, amqp_cstring_bytes(exchange), amqp_cstring_bytes("job.*.ended"), amqp_empty_table);
    check_reply(amqp_get_rpc_reply(c), "queue.bind");
    amqp_basic_consume(c, 1, name, amqp_empty_bytes, 0, 1, 0, amqp_empty_table);
    check_reply(amqp_get_rpc_reply(c), "basic.consume");
    printf("ready\n");
    fflush(stdout);
    for (long i = 0; i < n; i++) {
        amqp_envelope_t env;
        amqp_maybe_release_buffers(c);
        if (amqp_consume_message(c, &env, NULL, 0).reply_type != AMQP_RESPONSE_NORMAL) return 1;
        amqp_destroy_envelope(&env);
    }
    struct timeval tv;
    gettimeofday(&tv, NULL);
    printf("%.6f\n", tv.tv_sec + tv.tv_usec / 1e6);
    return 0;
}

static int publish(const char *queue, long n) {
    amqp_connection_state_t c = open_conn();
    char body[200];
    memset(body, 'r', sizeof body);
    amqp_basic_properties_t p = {0};
    p._flags = AMQP_BASIC_DELIVERY_MODE_FLAG;
    p.delivery_mode = 2;
    amqp_confirm_select(c, 1);
    check_reply(amqp_get_rpc_reply(c), "confirm.select");
    for (long i = 0; i < n; i++)
        amqp_basic_publish(c, 1, amqp_empty_bytes, amqp_cstring_bytes(queue), 0, 0, &p, (amqp_bytes_t){sizeof body, body});
    wait_confirms(c, (uint64_t)n);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 4 && !strcmp(argv[1], "worker")) return worker(argv[2], argv[3]);
    if (argc == 4 && !strcmp(argv[1], "count")) return count(argv[2], atol(argv[3]));
    if (argc == 4 && !strcmp(argv[1], "publish")) return publish(argv[2], atol(argv[3]));
    fprintf(stderr, "usage: limit worker QUEUE EXCHANGE | count EXCHANGE N | publish QUEUE N\n");
    return 2;
}
