package aws

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/waldur-go/waldur/models"
)

// Volume types EC2 accepts (CreateVolume's VolumeType).
var volumeTypes = map[string]bool{"standard": true, "gp2": true, "gp3": true, "io1": true, "io2": true, "sc1": true, "st1": true}

// maxVolumeGB is EC2's largest volume (16 TiB).
const maxVolumeGB = 16384

// defaultDevice is where a volume is attached when the order names no device.
const defaultDevice = "/dev/sdf"

// instanceSpec is what an AWS.Instance create order asks for (its attributes):
//
//	image           AMI id, e.g. "ami-0abcdef1234567890" (required)
//	size            instance type, e.g. "t3.micro" (required)
//	volume_size     root volume size in GB (optional; the image's default otherwise)
//	subnet          subnet id (optional; the default VPC otherwise)
//	ssh_key         name of an existing EC2 key pair (optional)
//	ssh_public_key  an OpenSSH public key, imported as key pair "waldur-<resource uuid>" (optional)
//	user_data       cloud-init user data, plain text (optional)
type instanceSpec struct {
	Image, Size, Subnet, KeyName, PublicKey, UserData string
	VolumeSize                                        int32
}

// volumeSpec is what an AWS.Volume create order asks for:
//
//	size               size in GB (required)
//	availability_zone  e.g. "eu-west-1a" (optional; the instance's zone, or the region's first)
//	volume_type        gp2, gp3, io1, io2, sc1, st1 or standard (optional; EC2's default)
//	instance           id of an instance to attach it to (optional)
//	device             device name for the attachment (optional; /dev/sdf)
type volumeSpec struct {
	Size                                     int32
	AvailabilityZone, Type, Instance, Device string
}

// attrs reads typed attributes and collects field errors.
type attrs struct {
	m    map[string]any
	errs map[string][]string
}

func newAttrs(m map[string]any) *attrs { return &attrs{m: m, errs: map[string][]string{}} }

func (a *attrs) fail(key, msg string) { a.errs[key] = append(a.errs[key], msg) }

func (a *attrs) has(key string) bool {
	v, ok := a.m[key]
	return ok && v != nil
}

func (a *attrs) str(key string, required bool) string {
	v, ok := a.m[key]
	if !ok || v == nil {
		if required {
			a.fail(key, "This field is required.")
		}
		return ""
	}
	s, ok := v.(string)
	if !ok {
		a.fail(key, "Must be a string.")
		return ""
	}
	s = strings.TrimSpace(s)
	if s == "" && required {
		a.fail(key, "This field may not be blank.")
	}
	return s
}

func (a *attrs) integer(key string, required bool, lo, hi int64) int32 {
	v, ok := a.m[key]
	if !ok || v == nil {
		if required {
			a.fail(key, "This field is required.")
		}
		return 0
	}
	var n float64
	switch x := v.(type) {
	case float64:
		n = x
	case int:
		n = float64(x)
	case int32:
		n = float64(x)
	case int64:
		n = float64(x)
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			a.fail(key, "A valid integer is required.")
			return 0
		}
		n = f
	default:
		a.fail(key, "A valid integer is required.")
		return 0
	}
	if n != math.Trunc(n) {
		a.fail(key, "A valid integer is required.")
		return 0
	}
	if n < float64(lo) || n > float64(hi) {
		a.fail(key, fmt.Sprintf("Must be between %d and %d.", lo, hi))
		return 0
	}
	return int32(n)
}

// err is the collected field errors as one invalid error (nil when none).
func (a *attrs) err() error {
	if len(a.errs) == 0 {
		return nil
	}
	var keys []string
	for k := range a.errs {
		keys = append(keys, k)
	}
	sort.Strings(keys) // a stable message: fields in name order
	var parts []string
	for _, k := range keys {
		parts = append(parts, k+": "+strings.Join(a.errs[k], " "))
	}
	e := models.Errorf(models.CodeInvalid, "Invalid attributes: %s", strings.Join(parts, "; "))
	e.Fields = map[string][]string{}
	for k, v := range a.errs {
		e.Fields[k] = v
	}
	return e
}

func instanceSpecFrom(m map[string]any) (instanceSpec, error) {
	a := newAttrs(m)
	s := instanceSpec{
		Image: a.str("image", true), Size: a.str("size", true), Subnet: a.str("subnet", false),
		KeyName: a.str("ssh_key", false), PublicKey: a.str("ssh_public_key", false), UserData: a.str("user_data", false),
		VolumeSize: a.integer("volume_size", false, 1, maxVolumeGB),
	}
	if s.Image != "" && !strings.HasPrefix(s.Image, "ami-") {
		a.fail("image", "Must be an AMI id (ami-…).")
	}
	if s.Subnet != "" && !strings.HasPrefix(s.Subnet, "subnet-") {
		a.fail("subnet", "Must be a subnet id (subnet-…).")
	}
	if s.KeyName != "" && s.PublicKey != "" {
		a.fail("ssh_key", "Give ssh_key or ssh_public_key, not both.")
	}
	return s, a.err()
}

func volumeSpecFrom(m map[string]any) (volumeSpec, error) {
	a := newAttrs(m)
	s := volumeSpec{
		Size: a.integer("size", true, 1, maxVolumeGB), AvailabilityZone: a.str("availability_zone", false),
		Type: a.str("volume_type", false), Instance: a.str("instance", false), Device: a.str("device", false),
	}
	if s.Type != "" && !volumeTypes[s.Type] {
		a.fail("volume_type", fmt.Sprintf("%q is not a valid choice.", s.Type))
	}
	if s.Instance != "" && !strings.HasPrefix(s.Instance, "i-") {
		a.fail("instance", "Must be an instance id (i-…).")
	}
	if s.Device == "" {
		s.Device = defaultDevice
	}
	return s, a.err()
}

// instanceUpdate is what an AWS.Instance update order may change: size
// (the instance type). Nothing else needs the backend.
func instanceUpdateFrom(m map[string]any) (size string, err error) {
	a := newAttrs(m)
	return a.str("size", false), a.err()
}

// volumeUpdate is what an AWS.Volume update order may change: size (grow
// only) and instance (attach to it; "" detaches).
type volumeUpdate struct {
	Size        int32
	HasInstance bool
	Instance    string
	Device      string
}

func volumeUpdateFrom(m map[string]any) (volumeUpdate, error) {
	a := newAttrs(m)
	u := volumeUpdate{Size: a.integer("size", false, 1, maxVolumeGB), HasInstance: a.has("instance"), Instance: a.str("instance", false), Device: a.str("device", false)}
	if u.Instance != "" && !strings.HasPrefix(u.Instance, "i-") {
		a.fail("instance", "Must be an instance id (i-…).")
	}
	if u.Device == "" {
		u.Device = defaultDevice
	}
	return u, a.err()
}
