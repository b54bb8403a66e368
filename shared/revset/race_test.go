//go:build race

package revset

// raceEnabled: the race detector is on (make test); the cold-start test then
// loads fewer entries, since filling dynalite is most of its time.
const raceEnabled = true
