/* amqp-c: the same two loops as amqp-bench, straight over rabbitmq-c 0.11, one thread.
 *   (a) confirmed publishes with WINDOW in flight (confirm.select, basic.ack honouring multiple)
 *   (b) consume with prefetch, one cumulative ack per read burst
 * Usage: amqp-c N SIZE WINDOW PREFETCH QUEUE   -> prints "publish <msgs/s> <CPU us/msg>" and "consume <msgs/s> <CPU us/msg>".
 */
#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>

static double cpu_us(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die_reply(amqp_connection_state_t c, const char *what) {
  amqp_rpc_reply_t r = amqp_get_rpc_reply(c);
  if (r.reply_type != AMQP_RESPONSE_NORMAL) {
    fprintf(stderr, "%s failed (reply type %d, library error %s)\n", what, r.reply_type,
            amqp_error_string2(r.library_error));
    exit(1);
  }
}

static amqp_connection_state_t connect_channel(void) {
  amqp_connection_state_t c = amqp_new_connection();
  amqp_socket_t *s = amqp_tcp_socket_new(c);
  if (amqp_socket_open(s, "127.0.0.1", 5672) != AMQP_STATUS_OK) { fprintf(stderr, "connect failed\n"); exit(1); }
  amqp_rpc_reply_t r = amqp_login(c, "/", 0, AMQP_DEFAULT_FRAME_SIZE, 30, AMQP_SASL_METHOD_PLAIN, "guest", "guest");
  if (r.reply_type != AMQP_RESPONSE_NORMAL) { fprintf(stderr, "login failed\n"); exit(1); }
  amqp_channel_open(c, 1);
  die_reply(c, "channel.open");
  return c;
}

int main(int argc, char **argv) {
  if (argc != 6) { fprintf(stderr, "usage: amqp-c N SIZE WINDOW PREFETCH QUEUE\n"); return 2; }
  long n = atol(argv[1]);
  size_t size = (size_t)atol(argv[2]);
  long window = atol(argv[3]);
  int prefetch = atoi(argv[4]);
  amqp_bytes_t queue = amqp_cstring_bytes(argv[5]);
  char *payload = malloc(size);
  memset(payload, 'a', size);
  amqp_bytes_t body = {size, payload};

  /* (a) publish */
  amqp_connection_state_t pc = connect_channel();
  amqp_queue_declare(pc, 1, queue, 0, 0, 0, 0, amqp_empty_table);
  die_reply(pc, "queue.declare");
  amqp_confirm_select(pc, 1);
  die_reply(pc, "confirm.select");
  amqp_basic_properties_t props;
  props._flags = 0;
  double t0 = now(), c0 = cpu_us();
  long published = 0, confirmed = 0;
  while (confirmed < n) {
    while (published < n && published - confirmed < window) {
      if (amqp_basic_publish(pc, 1, amqp_empty_bytes, queue, 0, 0, &props, body) != AMQP_STATUS_OK) {
        fprintf(stderr, "publish failed\n");
        return 1;
      }
      published++;
    }
    amqp_frame_t frame;
    amqp_maybe_release_buffers(pc);
    if (amqp_simple_wait_frame(pc, &frame) != AMQP_STATUS_OK) { fprintf(stderr, "wait failed\n"); return 1; }
    if (frame.frame_type == AMQP_FRAME_METHOD && frame.payload.method.id == AMQP_BASIC_ACK_METHOD) {
      amqp_basic_ack_t *ack = frame.payload.method.decoded;
      confirmed = ack->multiple ? (long)ack->delivery_tag : confirmed + 1;
    } else if (frame.frame_type == AMQP_FRAME_METHOD) {
      fprintf(stderr, "unexpected method 0x%x\n", frame.payload.method.id);
      return 1;
    }
  }
  printf("publish %ld %.1f\n", (long)(n / (now() - t0)), (cpu_us() - c0) / n);
  fflush(stdout);

  /* (b) consume */
  amqp_connection_state_t cc = connect_channel();
  amqp_basic_qos(cc, 1, 0, (uint16_t)prefetch, 0);
  die_reply(cc, "basic.qos");
  amqp_basic_consume(cc, 1, queue, amqp_empty_bytes, 0, 0, 0, amqp_empty_table);
  die_reply(cc, "basic.consume");
  t0 = now();
  c0 = cpu_us();
  long received = 0;
  struct timeval zero = {0, 0};
  while (received < n) {
    uint64_t last = 0;
    struct timeval *timeout = NULL; /* block for the first of a burst, then drain without blocking */
    for (;;) {
      amqp_envelope_t env;
      amqp_maybe_release_buffers(cc);
      amqp_rpc_reply_t r = amqp_consume_message(cc, &env, timeout, 0);
      if (r.reply_type == AMQP_RESPONSE_NORMAL) {
        last = env.delivery_tag;
        received++;
        amqp_destroy_envelope(&env);
        timeout = &zero;
        continue;
      }
      if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && r.library_error == AMQP_STATUS_TIMEOUT) break;
      fprintf(stderr, "consume failed\n");
      return 1;
    }
    if (last && amqp_basic_ack(cc, 1, last, 1) != AMQP_STATUS_OK) { fprintf(stderr, "ack failed\n"); return 1; }
  }
  printf("consume %ld %.1f\n", (long)(received / (now() - t0)), (cpu_us() - c0) / received);

  amqp_queue_delete(pc, 1, queue, 0, 0);
  amqp_channel_close(cc, 1, AMQP_REPLY_SUCCESS);
  amqp_connection_close(cc, AMQP_REPLY_SUCCESS);
  amqp_destroy_connection(cc);
  amqp_channel_close(pc, 1, AMQP_REPLY_SUCCESS);
  amqp_connection_close(pc, AMQP_REPLY_SUCCESS);
  amqp_destroy_connection(pc);
  free(payload);
  return 0;
}
