#ifndef GOLEM_BRIDGE_CRABBITMQ_SHIM_H
#define GOLEM_BRIDGE_CRABBITMQ_SHIM_H

// rabbitmq-c 0.11 installs its headers flat; 0.12+ moved them under rabbitmq-c/.
#if __has_include(<rabbitmq-c/amqp.h>)
#include <rabbitmq-c/amqp.h>
#include <rabbitmq-c/framing.h>
#include <rabbitmq-c/tcp_socket.h>
#include <rabbitmq-c/ssl_socket.h>
#else
#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>
#include <amqp_ssl_socket.h>
#endif
#include <sys/eventfd.h>
#include <poll.h>

/// amqp_login is C-variadic (SASL arguments) and is not imported into Swift; this fixes PLAIN.
static inline amqp_rpc_reply_t crmq_login_plain(amqp_connection_state_t state, const char *vhost,
                                                int channel_max, int frame_max, int heartbeat,
                                                amqp_table_t properties,
                                                const char *user, const char *password) {
    return amqp_login_with_properties(state, vhost, channel_max, frame_max, heartbeat, &properties,
                                      AMQP_SASL_METHOD_PLAIN, user, password);
}

#endif
