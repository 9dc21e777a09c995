package kafkaclient

import (
	"context"
	"errors"
	"os"
	"strings"

	"github.com/twmb/franz-go/pkg/sasl/aws"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// The login modules of sasl.jaas.config.
const (
	plainModule = "org.apache.kafka.common.security.plain.PlainLoginModule"
	scramModule = "org.apache.kafka.common.security.scram.ScramLoginModule"
	oauthModule = "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule"
	iamModule   = "software.amazon.msk.auth.iam.IAMLoginModule"
)

// The standard AWS credential variables AWS_MSK_IAM reads.
const (
	envAWSAccessKey    = "AWS_ACCESS_KEY_ID"
	envAWSSecretKey    = "AWS_SECRET_ACCESS_KEY"
	envAWSSessionToken = "AWS_SESSION_TOKEN"
)

func (p *parser) parseSASL() {
	mech, set := p.get(SASLMechanism)
	if !set || mech == "" {
		p.errorf(SASLMechanism, "is not set, so Kafka's default GSSAPI (Kerberos) applies, which pgmotion does not support: set it to %s", supportedMechanisms)
		return
	}
	p.s.Mechanism = mech
	if v, ok := p.get(SASLLoginClass); ok && v != "" {
		p.errorf(SASLLoginClass, "is not supported: pgmotion cannot load Java login classes; remove it")
	}
	var jaas JAAS
	text, hasJAAS := p.raw(SASLJAASConfig)
	if hasJAAS && strings.TrimSpace(text) != "" {
		var err error
		if jaas, err = ParseJAAS(text); err != nil {
			p.errorf(SASLJAASConfig, "%v", err)
			return
		}
	} else {
		hasJAAS = false
	}
	needJAAS := func(module, options string) bool {
		if !hasJAAS {
			p.errorf(SASLJAASConfig, "is not set: %s=%s needs %s required %s;", p.name(SASLMechanism), mech, module, options)
			return false
		}
		return true
	}
	switch mech {
	case MechPlain, MechScramSHA256, MechScramSHA512:
		module := plainModule
		if mech != MechPlain {
			module = scramModule
		}
		if !needJAAS(module, `username="..." password="..."`) {
			return
		}
		// Both modules put the user and password where Kafka's SASL client
		// reads them, so Kafka accepts either with any of these mechanisms.
		if jaas.Module != plainModule && jaas.Module != scramModule {
			p.errorf(SASLJAASConfig, "names the login module %s, but %s=%s needs %s", truncate(jaas.Module), p.name(SASLMechanism), mech, module)
			return
		}
		user, okU := jaas.Options["username"]
		pass, okP := jaas.Options["password"]
		if !okU || !okP {
			p.errorf(SASLJAASConfig, `needs both username="..." and password="..."`)
			return
		}
		p.s.User = user
		switch mech {
		case MechPlain:
			p.s.mech = plain.Auth{User: user, Pass: pass}.AsMechanism()
		case MechScramSHA256, MechScramSHA512:
			a := scram.Auth{User: user, Pass: pass, IsToken: strings.EqualFold(jaas.Options["tokenauth"], "true")}
			if mech == MechScramSHA256 {
				p.s.mech = a.AsSha256Mechanism()
			} else {
				p.s.mech = a.AsSha512Mechanism()
			}
		}
	case MechOAuthBearer:
		if !needJAAS(oauthModule, `clientId="..." clientSecret="..."`) {
			return
		}
		if jaas.Module != oauthModule {
			p.errorf(SASLJAASConfig, "names the login module %s, but %s=%s needs %s", truncate(jaas.Module), p.name(SASLMechanism), mech, oauthModule)
			return
		}
		p.parseOAuth(jaas)
	case MechAWSMSKIAM:
		if hasJAAS && jaas.Module != iamModule {
			p.errorf(SASLJAASConfig, "names the login module %s, but %s=%s needs %s required;", truncate(jaas.Module), p.name(SASLMechanism), mech, iamModule)
			return
		}
		for _, opt := range sortedKeys(jaas.Options) {
			p.errorf(SASLJAASConfig, "has the IAMLoginModule option %s, which pgmotion does not support: it reads credentials from %s, %s and %s", truncate(opt), envAWSAccessKey, envAWSSecretKey, envAWSSessionToken)
		}
		if v, ok := p.get(SASLClientCallbackHandlerClass); ok && v != "" && v != iamClientCallbackHandler {
			p.errorf(SASLClientCallbackHandlerClass, "%q is not supported: remove it, or use %s", truncate(v), iamClientCallbackHandler)
		}
		if os.Getenv(envAWSAccessKey) == "" || os.Getenv(envAWSSecretKey) == "" {
			p.errorf(SASLMechanism, "%s reads the AWS credentials from %s and %s (and %s), which are not set", mech, envAWSAccessKey, envAWSSecretKey, envAWSSessionToken)
			return
		}
		p.s.mech = aws.ManagedStreamingIAM(func(context.Context) (aws.Auth, error) {
			a := aws.Auth{AccessKey: os.Getenv(envAWSAccessKey), SecretKey: os.Getenv(envAWSSecretKey), SessionToken: os.Getenv(envAWSSessionToken), UserAgent: "pgmotion"}
			if a.AccessKey == "" || a.SecretKey == "" {
				return a, errors.New(envAWSAccessKey + " and " + envAWSSecretKey + " are not set")
			}
			return a, nil
		})
	default:
		// Written as Kafka users write it: sasl.mechanism=GSSAPI.
		p.errs = append(p.errs, &PropertyError{Key: p.name(SASLMechanism) + "=" + truncate(mech), Msg: "is not supported: use " + supportedMechanisms})
	}
	if v, ok := p.get(SASLLoginCallbackHandlerClass); ok && v != "" && mech != MechOAuthBearer {
		p.errorf(SASLLoginCallbackHandlerClass, "is not supported with %s=%s: pgmotion cannot load Java callback handlers; remove it", p.name(SASLMechanism), mech)
	}
}
