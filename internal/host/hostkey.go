package host

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"encoding/pem"
)

// newHostKey returns a new ed25519 private key in OpenSSH's format
// (PROTOCOL.key: "openssh-key-v1", not encrypted), the throwaway host key
// that `sshd -t` needs to check a tree that has none of its own.
func newHostKey() []byte {
	seed := make([]byte, ed25519.SeedSize)
	rand.Read(seed) // never fails
	priv := ed25519.NewKeyFromSeed(seed)
	pub := priv[ed25519.SeedSize:] // a private key is the seed, then the public key
	str := func(b *bytes.Buffer, s []byte) {
		binary.Write(b, binary.BigEndian, uint32(len(s)))
		b.Write(s)
	}
	const typ = "ssh-ed25519"
	var pubBlob bytes.Buffer
	str(&pubBlob, []byte(typ))
	str(&pubBlob, pub)

	var check [4]byte
	rand.Read(check[:])
	var sec bytes.Buffer
	sec.Write(check[:])
	sec.Write(check[:]) // twice: a wrong passphrase shows as a mismatch
	str(&sec, []byte(typ))
	str(&sec, pub)
	str(&sec, priv) // seed and public key, 64 bytes
	str(&sec, nil)  // comment
	for i := byte(1); sec.Len()%8 != 0; i++ {
		sec.WriteByte(i) // padding to the cipher's block size ("none": 8)
	}

	var b bytes.Buffer
	b.WriteString("openssh-key-v1\x00")
	str(&b, []byte("none")) // cipher
	str(&b, []byte("none")) // KDF
	str(&b, nil)            // KDF options
	binary.Write(&b, binary.BigEndian, uint32(1))
	str(&b, pubBlob.Bytes())
	str(&b, sec.Bytes())
	return pem.EncodeToMemory(&pem.Block{Type: "OPENSSH PRIVATE KEY", Bytes: b.Bytes()})
}
