package cli

import "sync"

// inParallel runs fn for every item, at most threads at a time, and returns
// when all have run.
func inParallel[T any](threads int, items []T, fn func(T)) {
	sem := make(chan struct{}, max(threads, 1))
	var wg sync.WaitGroup
	for _, it := range items {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			fn(it)
		}()
	}
	wg.Wait()
}
