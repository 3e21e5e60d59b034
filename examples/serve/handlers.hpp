#pragma once

// The endpoints, one function each: a request in, a response out. They throw
// RequestError for what the client must fix; Service::handle turns it into
// the JSON error.

#include "http_types.hpp"
#include "service.hpp"

namespace serve {

HttpResponse handle_recommend(const HttpRequest& request, Service& service);
HttpResponse handle_recommend_batch(const HttpRequest& request, Service& service);
HttpResponse handle_similar(const HttpRequest& request, Service& service);
HttpResponse handle_explain(const HttpRequest& request, Service& service);
HttpResponse handle_classify(const HttpRequest& request, Service& service);
HttpResponse handle_models(const HttpRequest& request, Service& service);
HttpResponse handle_reload(const HttpRequest& request, Service& service);
HttpResponse handle_events(const HttpRequest& request, Service& service);
HttpResponse handle_user_history(const HttpRequest& request, Service& service);
HttpResponse handle_forget_user(const HttpRequest& request, Service& service);

// The {id} of /v1/users/{id} and /v1/users/{id}/history.
std::string user_in_path(const HttpRequest& request);

// Throws RequestError 401 or 403 unless the request may call admin endpoints.
void require_admin(const HttpRequest& request, const ServiceOptions& options);

}  // namespace serve
