package api

import (
	"context"
	"errors"
	"testing"
	"time"
)

// waitFor polls an admission until its figures satisfy ok.
func waitFor(t *testing.T, a *admission, ok func(admissionStats) bool) admissionStats {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		st := a.stats()
		if ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("the admission never got there: %+v", st)
		}
	}
}

// acquireAsync acquires n in a goroutine; the channel says how it ended.
func acquireAsync(ctx context.Context, a *admission, n int64) <-chan error {
	done := make(chan error, 1)
	go func() { done <- a.acquire(ctx, n) }()
	return done
}

func TestAdmissionServesInOrderWithinItsCapacity(t *testing.T) {
	a := newAdmission(10)
	if err := a.acquire(t.Context(), 6); err != nil {
		t.Fatal(err)
	}
	big := acquireAsync(t.Context(), a, 6)
	waitFor(t, a, func(s admissionStats) bool { return s.Waiting == 1 })
	// 1 would fit, but a waiter came first: it waits behind it.
	small := acquireAsync(t.Context(), a, 1)
	st := waitFor(t, a, func(s admissionStats) bool { return s.Waiting == 2 })
	if st.Held != 6 {
		t.Fatalf("held %d while both wait, want 6", st.Held)
	}
	a.release(6)
	for _, done := range []<-chan error{big, small} {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if st := a.stats(); st.Held != 7 || st.Peak != 7 || st.Waiting != 0 {
		t.Fatalf("after the release: %+v, want 7 held, a peak of 7, none waiting", st)
	}
	a.release(6)
	a.release(1)
	if st := a.stats(); st.Held != 0 {
		t.Fatalf("held %d once all is released", st.Held)
	}
}

func TestAdmissionWaiterGivingUpLetsTheNextIn(t *testing.T) {
	a := newAdmission(10)
	if err := a.acquire(t.Context(), 8); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	big := acquireAsync(ctx, a, 5)
	waitFor(t, a, func(s admissionStats) bool { return s.Waiting == 1 })
	small := acquireAsync(t.Context(), a, 2)
	waitFor(t, a, func(s admissionStats) bool { return s.Waiting == 2 })
	cancel()
	if err := <-big; !errors.Is(err, context.Canceled) {
		t.Fatalf("the waiter given up: %v", err)
	}
	// The waiter in front gone, the next one fits.
	if err := <-small; err != nil {
		t.Fatal(err)
	}
	if st := a.stats(); st.Held != 10 || st.Refused != 1 || st.Waiting != 0 {
		t.Fatalf("%+v, want 10 held, 1 refused, none waiting", st)
	}
}
