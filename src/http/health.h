// Liveness and readiness endpoints for load balancers and orchestrators.
#pragma once

#include <functional>

#include "core/error.h"
#include "http/router.h"

namespace medvault::http {

// GET /healthz answers 200 while the process serves; GET /readyz answers 200 when
// `ready` succeeds (the store is reachable) and 503 otherwise. Neither says why in the
// body: the reason goes to the log.
medvault::Status AddHealthRoutes(Router& router, std::function<medvault::Status()> ready);

}  // namespace medvault::http
