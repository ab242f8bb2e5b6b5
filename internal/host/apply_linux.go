package host

import (
	"context"
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"time"

	"github.com/sshwarden/sshwarden/sshdconf"
	"github.com/sshwarden/sshwarden/sshdconf/fix"
	"github.com/sshwarden/sshwarden/sshdconf/lint"
)

// Step is one step of [Apply], in the order they run.
type Step int

const (
	StepLock   Step = iota // lock the main file's folder
	StepLoad               // read the configuration (ApplyOptions.Load)
	StepPlan               // plan the change ([fix.Make])
	StepCheck              // sshd -t on the configuration as it is and as it will be ([Checker])
	StepOrder              // choose the order of the writes ([fix.Order])
	StepWrite              // replace the files ([Write], [WriteIn])
	StepReload             // reload sshd ([Reload])
)

var stepNames = [...]string{"lock", "load", "plan", "check", "order", "write", "reload"}

func (s Step) String() string {
	if s < 0 || int(s) >= len(stepNames) {
		return fmt.Sprintf("Step(%d)", int(s))
	}
	return stepNames[s]
}

// LockWait is how long fix -w and the agent's EnforceConfig wait for
// another run's lock on the configuration: a run holds it for as long as
// sshd -t takes, seconds at most.
const LockWait = 30 * time.Second

// ApplyOptions say what [Apply] works on and how far it goes.
type ApplyOptions struct {
	// Main is the main configuration file, as the user named it: Apply
	// locks its folder.
	Main string
	// Root is the --root tree ("" for this host): the lock, the check and
	// the writes resolve every name inside it.
	Root string
	// Load reads the configuration; Apply calls it once the lock is held,
	// so that what it plans is what is on disk.
	Load func() (*sshdconf.Config, error)
	// Requirements are the policy's requirements on the configuration.
	Requirements []lint.Requirement

	// Until is the last step Apply runs: StepPlan plans only (nothing
	// is run or written), StepOrder also has sshd check the change
	// (`fix` without -w), StepWrite writes it, StepReload then reloads
	// sshd.
	Until Step
	// Lock takes the lock even when Apply writes nothing (it always does
	// when it writes), so that it never reads a configuration that another
	// run is replacing.
	Lock bool
	// LockWait bounds the wait for another run's lock (fix -w and the
	// agent use [LockWait]); 0: ctx alone.
	LockWait time.Duration
	// CheckWait bounds the checks by sshd -t (a FIFO that an Include
	// reads would block sshd for ever); 0: ctx alone.
	CheckWait time.Duration
	// Checker runs `sshd -t`; nil: a [Checker] with Root.
	Checker interface {
		Check(ctx context.Context, c *sshdconf.Config, changes []fix.FileChange) error
	}
}

// Applied is what [Apply] did, as far as it went.
type Applied struct {
	Config *sshdconf.Config // the configuration as Load read it
	Plan   *fix.Plan
	// Ordered are Plan.Files in the order they are (or would be) written.
	Ordered []fix.FileChange
	// Checked says that sshd -t accepted the configuration as it is and
	// as it will be. When it did not check, Unchecked says why:
	// [fix.ErrNoSSHD] (sshd is not installed), an *[OtherRelease] (the
	// host's sshd is not the release the configuration was read as), or
	// why sshd could not run; the sshdconf model of the configuration's
	// release (which Make runs) was the only check.
	Checked   bool
	Unchecked error
	// Written says the files were replaced.
	Written bool
	// Reloaded says how sshd was reloaded (see [Reload]).
	Reloaded string
}

// ApplyError is the error of [Apply]: the step that failed, and why.
// Err is, at StepPlan, a *[fix.Refused] or an *[Unfixable]; at StepCheck, an
// *[fix.SSHDRefused] or why sshd could not run; at StepOrder, an
// *[Interdependent] or another error.
type ApplyError struct {
	Step  Step
	Fixed bool // at StepCheck: the fixed configuration failed (else the current one)
	Err   error
}

func (e *ApplyError) Error() string { return e.Err.Error() }
func (e *ApplyError) Unwrap() error { return e.Err }

// Unfixable is the error of a plan with policy findings that no edit
// corrects: fix writes nothing then.
type Unfixable struct {
	Findings []lint.Finding
}

func (e *Unfixable) Error() string {
	f := e.Findings[0]
	return fmt.Sprintf("%s:%d: %s", f.Pos.File, f.Pos.Line, f.Message)
}

// Apply is the whole of `sshwarden fix` and of the agent's EnforceConfig:
// it locks the main file's folder, loads the configuration, plans the
// change ([fix.Make]), has the real `sshd -t` check the configuration as it
// is and as it will be ([Checker]), orders the writes so that sshd
// accepts the configuration after each one ([fix.Order]), replaces the files
// atomically ([Write]) and reloads sshd ([Reload]), each step only up to
// o.Until. A plan without changes stops after StepPlan with no error.
//
// Where sshd is not installed, or is another release than the one the
// configuration was read as (Config.Release) and Apply does not write this
// host's own configuration, the sshdconf model is the only check.
// Where sshd is installed but cannot run (no root for the mount
// namespace), Apply goes on unchecked unless it writes this host's
// configuration, which it then refuses. Either way Applied.Unchecked says
// why sshd did not check.
//
// An error is an *[ApplyError] naming the step that failed; the Applied
// returned with it holds what was done before.
func Apply(ctx context.Context, o ApplyOptions) (*Applied, error) {
	res := &Applied{}
	fail := func(s Step, err error) (*Applied, error) { return res, &ApplyError{Step: s, Err: err} }

	if o.Lock || o.Until >= StepWrite {
		lctx, cancel := ctx, context.CancelFunc(func() {})
		if o.LockWait > 0 {
			lctx, cancel = context.WithTimeout(ctx, o.LockWait)
		}
		var unlock func()
		var err error
		if o.Root != "" {
			unlock, err = LockIn(lctx, o.Root, path.Dir(path.Clean("/"+o.Main)))
		} else {
			unlock, err = Lock(lctx, filepath.Dir(o.Main))
		}
		cancel()
		if err != nil {
			return fail(StepLock, err)
		}
		defer unlock()
	}
	cfg, err := o.Load()
	if err != nil {
		return fail(StepLoad, err)
	}
	res.Config = cfg
	plan, err := fix.Make(cfg, o.Requirements)
	if err != nil {
		return fail(StepPlan, err)
	}
	res.Plan = plan
	if len(plan.Unfixable) > 0 {
		return fail(StepPlan, &Unfixable{Findings: plan.Unfixable})
	}
	if len(plan.Files) == 0 || o.Until <= StepPlan {
		return res, nil
	}

	cctx, cancel := ctx, context.CancelFunc(func() {})
	if o.CheckWait > 0 {
		cctx, cancel = context.WithTimeout(ctx, o.CheckWait)
	}
	defer cancel()
	checker := o.Checker
	var other *OtherRelease
	if checker == nil {
		// The host's sshd judges the configuration only when it is the
		// release the configuration was read as: another release's sshd
		// -t refuses keywords this one has, or takes ones it refuses.
		// This host's own configuration, once written, is read by this
		// host's sshd whatever release it was read as: its sshd -t
		// checks every write of it.
		err := hostRelease(cctx, cfg.Release())
		hostWrite := o.Until >= StepWrite && o.Root == ""
		switch {
		case err == nil, errors.Is(err, fix.ErrNoSSHD):
		case errors.As(err, &other):
			if !hostWrite {
				res.Unchecked = err
			}
		case hostWrite:
			return fail(StepCheck, fmt.Errorf("telling the release of this host's sshd: %w", err))
		default:
			res.Unchecked = err
		}
		checker = &Checker{Root: o.Root}
	}
	res.Checked = res.Unchecked == nil
	for _, fixed := range []bool{false, true} {
		if res.Unchecked != nil {
			break
		}
		var changes []fix.FileChange
		if fixed {
			changes = plan.Files
		}
		err := checker.Check(cctx, cfg, changes)
		var refused *fix.SSHDRefused
		switch {
		case err == nil:
			continue
		case errors.Is(err, fix.ErrNoSSHD):
		case errors.As(err, &refused), o.Until >= StepWrite && o.Root == "":
			res.Checked = false
			return res, &ApplyError{Step: StepCheck, Fixed: fixed, Err: err}
		}
		res.Checked, res.Unchecked = false, err
		break
	}
	if o.Until <= StepCheck {
		return res, nil
	}
	// The files are written one at a time: in an order in which sshd
	// accepts the configuration after each, since sshd may restart at any
	// moment, before anyone runs fix again.
	var check func([]fix.FileChange) error
	if res.Checked {
		check = func(changes []fix.FileChange) error { return checker.Check(cctx, cfg, changes) }
	}
	res.Ordered, err = fix.Order(cfg, plan.Files, check)
	if err != nil {
		return fail(StepOrder, err)
	}
	if o.Until <= StepOrder {
		return res, nil
	}
	changes := make([]Change, len(res.Ordered))
	for i, fc := range res.Ordered {
		changes[i] = Change{Path: cfg.Path(fc.Name), Old: fc.Old, New: fc.New}
	}
	if o.Root != "" {
		err = WriteIn(o.Root, changes)
	} else {
		err = Write(changes)
	}
	if err != nil {
		return fail(StepWrite, err)
	}
	res.Written = true
	if o.Until <= StepWrite {
		return res, nil
	}
	pidFile := "/run/sshd.pid"
	if s := plan.After.Global().Get("pidfile"); len(s) == 1 {
		pidFile = s[0].Value
	}
	res.Reloaded, err = Reload(ctx, ReloadOptions{Config: cfg.Path(cfg.Main), PidFile: pidFile})
	if err != nil {
		return fail(StepReload, fmt.Errorf("the files are written, but reloading sshd failed: %w", err))
	}
	return res, nil
}
