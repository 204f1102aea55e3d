// The Beast side of http_server::route_upgrade: what an upgrade handler receives.
#pragma once

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "server/http_server.hpp"

namespace aw::events::server {

struct upgraded_connection {
  boost::beast::tcp_stream stream;  // on a strand of the server's io_context; no timeout armed
  boost::beast::flat_buffer buffer;  // bytes read past the request (normally none: clients wait for 101)
  boost::beast::http::request<boost::beast::http::string_body> request;
  http_request parsed;  // the same request in the server's plain form (lowercase header names)
};

}  // namespace aw::events::server
