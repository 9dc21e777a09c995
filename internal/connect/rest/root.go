package rest

import (
	"context"
	"errors"
	"net/http"

	"github.com/pgmotion/pgmotion/internal/connect"
)

func (h *handler) serverInfo(ctx context.Context, _ *call) (*reply, error) {
	info, err := h.herder.ClusterInfo(ctx)
	if err != nil {
		return nil, err
	}
	return ok(info)
}

// workerStatus is Kafka Connect's WorkerStatus entity (GET /health).
type workerStatus struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

// health answers 200 when the herder is ready and 503 while it starts.
// The message of Ready's error follows Connect's text as the details of
// what the worker is doing; a *connect.Error with code 500 from Ready
// means the worker is started but unhealthy.
func (h *handler) health(context.Context, *call) (*reply, error) {
	err := h.herder.Ready()
	if err == nil {
		return &reply{status: http.StatusOK, body: workerStatus{"healthy", "Worker has completed startup and is ready to handle requests."}}, nil
	}
	var ce *connect.Error
	if errors.As(err, &ce) && ce.Code == http.StatusInternalServerError {
		return withDetails(unhealthy(), ce.Msg), nil
	}
	return withDetails(&reply{status: http.StatusServiceUnavailable, body: workerStatus{"starting", "Worker is still starting up."}}, err.Error()), nil
}

func unhealthy() *reply {
	return &reply{status: http.StatusInternalServerError,
		body: workerStatus{"unhealthy", "Worker was unable to handle this request and may be unable to handle other requests."}}
}

func withDetails(r *reply, details string) *reply {
	if details != "" {
		ws := r.body.(workerStatus)
		ws.Message += " " + details
		r.body = ws
	}
	return r
}
